//! The HTML report of `satire explain --format html`: one self-contained
//! page (inline CSS and script, no external assets, nothing fetched) that
//! shows each article with its sentences shaded by their share of the
//! log-odds, the figures behind each sentence on hover (and inline on
//! request), the strongest cue tokens each way, and the label and
//! probability. With several articles, an index table at the top, sortable
//! by any column, links to each.
//!
//! A report is built in memory ([`HtmlReport::add`]) and written at the end
//! ([`HtmlReport::write`]), since the index comes first: it is meant for
//! reading, not for millions of articles (use `satire score` for those).

use std::fmt::Write as _;
use std::io::Write;

use crate::explain::{Explanation, TokenShare};
use crate::model::Model;
use crate::score::Decision;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newlines are not
            // allowed in HTML text; show them as the replacement character.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// One row of the index.
struct Entry {
    id: String,
    /// `None` for an item in error.
    p_satire: Option<f64>,
    label: &'static str,
    top_cue: String,
    sentences: usize,
    error: Option<String>,
}

const TITLE: &str = "satire report";

/// An HTML report under construction.
pub struct HtmlReport {
    model_line: String,
    top: usize,
    decision: Decision,
    entries: Vec<Entry>,
    /// The rendered article sections, in input order.
    body: String,
}

impl HtmlReport {
    /// A report on texts explained with `model`, listing `top` cue tokens
    /// each way per article, each labelled by `decision`.
    pub fn new(model: &Model, top: usize, decision: Decision) -> Self {
        let model_line = format!(
            "Model: format v{}, written by {}, {} components, {} vocabulary tokens",
            model.format_version(),
            model.meta().created_by,
            model.components().len(),
            model.vocab().len()
        );
        HtmlReport {
            model_line,
            top,
            decision,
            entries: Vec::new(),
            body: String::new(),
        }
    }

    /// Adds an explained article.
    pub fn add(&mut self, model: &Model, id: &str, text: &str, e: &Explanation) {
        let n = self.entries.len();
        let s = &e.score;
        let label = self.decision.label(s.p_satire);
        let satire: Vec<&TokenShare> = e.satire_cues(self.top).collect();
        let real: Vec<&TokenShare> = e.real_cues(self.top).collect();
        let shown_sentences = e.sentences.iter().filter(|st| !st.is_blank(text)).count();
        self.entries.push(Entry {
            id: id.to_string(),
            p_satire: Some(s.p_satire),
            label,
            top_cue: satire.first().map(|t| t.token.clone()).unwrap_or_default(),
            sentences: shown_sentences,
            error: None,
        });

        let b = &mut self.body;
        let _ = write!(
            b,
            "<article id=\"a{n}\" data-label=\"{label}\">\n<h2>{}</h2>\n\
             <p class=\"verdict {label}\"><span class=\"label\">{label}</span> \
             P(satire) <b>{:.3}</b> · log-odds {:+.3}</p>\n",
            escape(id),
            s.p_satire,
            s.log_odds,
        );
        let _ = writeln!(
            b,
            "<p class=\"sum\">log-odds {:+.4} = intercept {:+.4} + tokens {:+.4} \
             ({} known of {} tokens, scale {:.4}) + mixing {:+.4}; component: {} \
             (router {:.3})</p>",
            s.log_odds,
            e.intercept,
            e.token_total(),
            s.known_tokens,
            s.tokens,
            e.scale,
            e.mixing,
            escape(&model.components()[e.component].name),
            s.component_p,
        );
        b.push_str("<div class=\"cues\">\n");
        for (class, title, cues) in [
            ("satire", "Satire cues", &satire),
            ("real", "Real cues", &real),
        ] {
            let max = cues
                .iter()
                .map(|t| t.contribution.abs())
                .fold(0.0f64, f64::max);
            let _ = writeln!(b, "<div class=\"{class}\"><h3>{title}</h3><ol>");
            for t in cues.iter() {
                let width = if max > 0.0 {
                    100.0 * t.contribution.abs() / max
                } else {
                    0.0
                };
                let _ = writeln!(
                    b,
                    "<li title=\"{} × {:+.3} × scale {:.4}\"><span class=\"bar\" \
                     style=\"width:{width:.1}%\"></span><code>{}</code> \
                     <span class=\"num\">{:+.4}</span></li>",
                    t.counted,
                    t.weight,
                    e.scale,
                    escape(&t.token),
                    t.contribution,
                );
            }
            if cues.is_empty() {
                b.push_str("<li class=\"none\">none</li>\n");
            }
            b.push_str("</ol></div>\n");
        }
        b.push_str("</div>\n");

        // The top sentences, as a reader's checklist.
        let order = e.sentences_by_satire();
        b.push_str("<h3>Most satirical sentences</h3>\n<ol class=\"top\">\n");
        for &i in order
            .iter()
            .filter(|&&i| !e.sentences[i].is_blank(text))
            .take(3)
        {
            let st = &e.sentences[i];
            let _ = writeln!(
                b,
                "<li><a href=\"#a{n}s{i}\">{}</a> <span class=\"num\">{:+.3}</span></li>",
                escape(st.text(text).trim()),
                st.share,
            );
        }
        b.push_str("</ol>\n");

        // The article, each sentence shaded by its share.
        let max = e
            .sentences
            .iter()
            .map(|st| st.share.abs())
            .fold(0.0f64, f64::max);
        b.push_str("<div class=\"text\">");
        for (i, st) in e.sentences.iter().enumerate() {
            let raw = st.text(text);
            if st.is_blank(text) {
                b.push_str(&escape(raw));
                continue;
            }
            // Keep the sentence's trailing whitespace (paragraph breaks)
            // outside the shading.
            let body = raw.trim_end();
            let tail = &raw[body.len()..];
            let alpha = if max > 0.0 {
                0.55 * st.share.abs() / max
            } else {
                0.0
            };
            let (class, rgb) = if st.share >= 0.0 {
                ("s sat", "220,50,47")
            } else {
                ("s rea", "38,139,210")
            };
            let _ = write!(
                b,
                "<span id=\"a{n}s{i}\" class=\"{class}\" style=\"background:rgba({rgb},{alpha:.3})\" \
                 data-share=\"{:.6}\" title=\"share of log-odds {:+.4} · own P(satire) {:.3} · \
                 {:.1} known tokens\">{}</span><sup class=\"fig\">{:+.2}</sup>{}",
                st.share,
                st.share,
                st.p_satire,
                st.tokens,
                escape(body),
                st.share,
                escape(tail),
            );
        }
        b.push_str("</div>\n</article>\n");
    }

    /// Adds an item that could not be explained.
    pub fn add_error(&mut self, id: &str, message: &str) {
        let n = self.entries.len();
        self.entries.push(Entry {
            id: id.to_string(),
            p_satire: None,
            label: "error",
            top_cue: String::new(),
            sentences: 0,
            error: Some(message.to_string()),
        });
        let _ = writeln!(
            self.body,
            "<article id=\"a{n}\" data-label=\"error\">\n<h2>{}</h2>\n\
             <p class=\"verdict error\"><span class=\"label\">error</span> {}</p>\n</article>",
            escape(id),
            escape(message)
        );
    }

    /// Writes the whole page.
    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let satire = self.entries.iter().filter(|e| e.label == "satire").count();
        let real = self.entries.iter().filter(|e| e.label == "real").count();
        let unsure = self.entries.iter().filter(|e| e.label == "unsure").count();
        let errors = self.entries.iter().filter(|e| e.error.is_some()).count();
        let mut counts = format!(
            "{} article{}: {satire} satire, {real} real",
            self.entries.len(),
            if self.entries.len() == 1 { "" } else { "s" }
        );
        if unsure > 0 {
            let _ = write!(counts, ", {unsure} unsure");
        }
        if errors > 0 {
            let _ = write!(counts, ", {errors} in error");
        }
        let mut decision = format!("Threshold {}", self.decision.threshold);
        if self.decision.unsure > 0.0 {
            let _ = write!(decision, ", unsure within {} of it", self.decision.unsure);
        }
        write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{} ({})</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
             <input type=\"checkbox\" id=\"figs\"><header>\n<h1>{}</h1>\n<p>{counts}. \
             {}. {}.</p>\n<p class=\"legend\"><span class=\"s sat\" \
             style=\"background:rgba(220,50,47,.45)\">red</span> sentences pushed the article \
             towards satire, <span class=\"s rea\" style=\"background:rgba(38,139,210,.45)\">blue\
             </span> ones towards straight reporting; the deeper the shade, the larger the \
             sentence's share of the log-odds (scaled per article). Hover a sentence for its \
             figures, or <label for=\"figs\">show them inline</label>.</p>\n</header>\n",
            TITLE,
            escape(&counts),
            TITLE,
            escape(&self.model_line),
            escape(&decision),
        )?;
        if self.entries.len() > 1 {
            out.write_all(
                b"<table id=\"index\">\n<thead><tr>\
                  <th aria-sort=\"ascending\"><button data-col=\"0\" data-type=\"num\">#</button></th>\
                  <th><button data-col=\"1\" data-type=\"text\">article</button></th>\
                  <th><button data-col=\"2\" data-type=\"num\">P(satire)</button></th>\
                  <th><button data-col=\"3\" data-type=\"text\">label</button></th>\
                  <th><button data-col=\"4\" data-type=\"num\">sentences</button></th>\
                  <th><button data-col=\"5\" data-type=\"text\">top satire cue</button></th>\
                  </tr></thead>\n<tbody>\n",
            )?;
            for (n, e) in self.entries.iter().enumerate() {
                let (p_value, p_text) = match e.p_satire {
                    Some(p) => (format!("{p:.17}"), format!("{p:.3}")),
                    None => ("-1".to_string(), "—".to_string()),
                };
                let shade = e.p_satire.map_or(String::new(), |p| {
                    let (rgb, a) = if p >= 0.5 {
                        ("220,50,47", (p - 0.5) * 1.1)
                    } else {
                        ("38,139,210", (0.5 - p) * 1.1)
                    };
                    format!(" style=\"background:rgba({rgb},{a:.3})\"")
                });
                let cue = match &e.error {
                    Some(msg) => escape(msg),
                    None => format!("<code>{}</code>", escape(&e.top_cue)),
                };
                writeln!(
                    out,
                    "<tr class=\"{}\"><td data-v=\"{n}\">{}</td><td data-v=\"{}\"><a href=\"#a{n}\">{}</a></td>\
                     <td data-v=\"{p_value}\"{shade}>{p_text}</td><td data-v=\"{}\">{}</td>\
                     <td data-v=\"{}\">{}</td><td data-v=\"{}\">{cue}</td></tr>",
                    e.label,
                    n + 1,
                    escape(&e.id),
                    escape(&e.id),
                    e.label,
                    e.label,
                    e.sentences,
                    e.sentences,
                    escape(&e.top_cue),
                )?;
            }
            out.write_all(b"</tbody>\n</table>\n")?;
        }
        out.write_all(b"<main>\n")?;
        out.write_all(self.body.as_bytes())?;
        write!(
            out,
            "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
        )
    }
}

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem;
  margin: 0 auto; padding: 1rem 1.5rem 4rem; color: #1d1d1f; background: #fff; }
h1 { margin: .2rem 0; font-size: 1.6rem; }
h2 { margin: 2.5rem 0 .3rem; font-size: 1.15rem; word-break: break-all; }
h3 { font-size: .95rem; margin: .8rem 0 .3rem; }
header p { margin: .3rem 0; color: #444; }
#figs { position: absolute; left: -100vw; }
.legend label { text-decoration: underline; cursor: pointer; color: #0645ad; }
#figs:checked ~ header .legend label { font-weight: bold; }
.verdict { font-size: 1.05rem; margin: .2rem 0; }
.verdict .label { display: inline-block; padding: 0 .5rem; border-radius: .3rem; color: #fff;
  font-weight: bold; margin-right: .4rem; }
.verdict.satire .label { background: #c0392b; }
.verdict.real .label { background: #1f6fa8; }
.verdict.unsure .label { background: #777; }
.verdict.error .label { background: #000; }
.sum { font-size: .85rem; color: #555; margin: .2rem 0 .6rem; }
.cues { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; }
.cues ol { margin: 0; padding-left: 1.6rem; font-size: .9rem; }
.cues li { position: relative; }
.cues .bar { position: absolute; left: 0; top: .15rem; bottom: .15rem; z-index: 0; opacity: .25; }
.cues .satire .bar { background: #dc322f; }
.cues .real .bar { background: #268bd2; }
.cues code, .cues .num { position: relative; z-index: 1; }
.num { font-variant-numeric: tabular-nums; color: #555; font-size: .85rem; }
.top { font-size: .9rem; }
.top a { color: inherit; }
.text { white-space: pre-wrap; border-left: 3px solid #ddd; padding-left: 1rem; margin-top: 1rem; }
.s { border-radius: .2rem; }
.s:target { outline: 2px solid #000; }
.fig { display: none; font-size: .7rem; color: #333; margin: 0 .15rem; }
#figs:checked ~ main .fig { display: inline; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .5rem; text-align: left; }
td:nth-child(1), td:nth-child(3), td:nth-child(5) { text-align: right;
  font-variant-numeric: tabular-nums; }
td:nth-child(2) { word-break: break-all; }
th button { font: inherit; font-weight: bold; border: 0; background: none; cursor: pointer;
  padding: 0; }
th[aria-sort=ascending] button::after { content: " ▲"; }
th[aria-sort=descending] button::after { content: " ▼"; }
tr.error td { color: #900; }
"#;

const SCRIPT: &str = r#"
(function () {
  "use strict";
  var table = document.getElementById("index");
  if (table) {
    var heads = table.querySelectorAll("th");
    var body = table.tBodies[0];
    table.querySelectorAll("th button").forEach(function (button) {
      button.addEventListener("click", function () {
        var col = Number(button.dataset.col);
        var numeric = button.dataset.type === "num";
        var th = button.parentElement;
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        if (!th.hasAttribute("aria-sort") && numeric && col !== 0) dir = -1;
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
          var c = numeric ? Number(x) - Number(y) : x.localeCompare(y);
          if (c === 0) c = Number(a.cells[0].dataset.v) - Number(b.cells[0].dataset.v);
          return dir * c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      });
    });
  }
  document.body.setAttribute("data-ready", "1");
})();
"#;
