//! `satire explain --format html`: one self-contained page, text escaped,
//! every input in the index in order, and a page headless Chromium loads
//! with no console message, whose index sorts by score when clicked.
//! The Chromium tests skip, saying so, when no Chromium is installed;
//! `.ci/run` installs Debian's `chromium`.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

/// `data-v` values of one index column, in row order.
fn index_column(html: &str, col: usize) -> Vec<String> {
    let tbody = &html[html.find("<tbody>").unwrap()..html.find("</tbody>").unwrap()];
    tbody
        .split("<tr")
        .skip(1)
        .map(|row| {
            let cell = row.split("<td data-v=\"").nth(col + 1).unwrap();
            cell[..cell.find('"').unwrap()].to_string()
        })
        .collect()
}

fn html_report(args: &[&str]) -> (std::process::Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("report.html");
    let mut all = vec![
        "explain",
        "--format",
        "html",
        "-o",
        out_path.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = satire(&all, None);
    let html = std::fs::read_to_string(&out_path).unwrap_or_default();
    (out, html)
}

#[test]
fn report_is_one_self_contained_page_with_every_input_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "Senator Unveils Bill </script><script>alert('x')</script> \
                   <img src=\"http://example.com/t.png\" onerror=\"alert(1)\"> \
                   <link rel=stylesheet href=https://example.com/s.css> & \"quotes\".";
    write(dir.path(), "a_hostile.txt", hostile);
    write(dir.path(), "b_empty.txt", "");
    std::fs::copy(
        seeds().join("000_ee9cb40c4d31c8bb.txt"),
        dir.path().join("c_satire.txt"),
    )
    .unwrap();
    std::fs::copy(
        seeds().join("002_91b899f0df68ffba.txt"),
        dir.path().join("d_real.txt"),
    )
    .unwrap();
    let (out, html) = html_report(&[dir.path().to_str().unwrap()]);
    // The empty file is an error item: exit 1, as for `score`.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));

    // Nothing fetched: no element that loads anything, no link out of the
    // page, exactly one script (ours), and the hostile text only escaped.
    let lower = html.to_lowercase();
    for tag in [
        "<img", "<link", "<iframe", "<object", "<embed", "@import", "url(",
    ] {
        assert!(!lower.contains(tag), "{tag} in the report");
    }
    assert_eq!(lower.matches("<script").count(), 1);
    assert!(!lower.contains("href=\"http") && !lower.contains("src=\""));
    assert!(html.contains("&lt;/script&gt;&lt;script&gt;alert(&#39;x&#39;)"));
    assert!(html.contains("&amp; &quot;quotes&quot;."));

    // The index lists every input once, in input order, each linking to its
    // article; the error row says what went wrong.
    let ids = index_column(&html, 1);
    let names: Vec<&str> = ids
        .iter()
        .map(|id| Path::new(id).file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["a_hostile.txt", "b_empty.txt", "c_satire.txt", "d_real.txt"]
    );
    let labels = index_column(&html, 3);
    assert_eq!(labels[1..], ["error", "satire", "real"]);
    let b_row = &html[html.find("<tr class=\"error\"").unwrap()..];
    assert!(b_row[..b_row.find("</tr>").unwrap()].contains("empty"));
    for n in 0..4 {
        assert!(html.contains(&format!("<a href=\"#a{n}\">")));
        assert!(html.contains(&format!("<article id=\"a{n}\"")));
    }

    // Index probabilities are the ones `satire score` gives.
    let scored = score_rows(&satire(&["score", dir.path().to_str().unwrap()], None));
    let p: Vec<String> = index_column(&html, 2);
    assert_eq!(scored.len(), 4);
    for ((row, p), label) in scored.iter().zip(&p).zip(&labels) {
        if row.2.is_some() {
            assert_eq!(&row.1, label);
        }
        match row.2 {
            Some(want) => assert!((p.parse::<f64>().unwrap() - want).abs() < 1e-6),
            None => assert_eq!(p, "-1"),
        }
    }

    // The satire seed's article: every sentence shaded, with its share and
    // own P(satire) on hover, shares summing to the article's log-odds.
    let a2 = &html[html.find("<article id=\"a2\"").unwrap()..];
    let a2 = &a2[..a2.find("</article>").unwrap()];
    let shares: Vec<f64> = a2
        .split("data-share=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        .collect();
    assert_eq!(shares.len(), 16);
    assert_eq!(a2.matches("title=\"share of log-odds").count(), 16);
    let explained: serde_json::Value = serde_json::from_str(&stdout(&satire(
        &[
            "explain",
            "--format",
            "json",
            seeds().join("000_ee9cb40c4d31c8bb.txt").to_str().unwrap(),
        ],
        None,
    )))
    .unwrap();
    let log_odds = explained["log_odds"].as_f64().unwrap();
    assert!((shares.iter().sum::<f64>() - log_odds).abs() < 1e-4);
    assert!(a2.contains("Bond villain"));
    assert!(a2.contains("class=\"verdict satire\""));
}

#[test]
fn the_report_in_docs_is_the_one_the_seeds_give_now() {
    // docs/seeds-report.html (and its screenshot in the README) come from
    // scripts/report-screenshot; rerun it when this fails.
    let (out, html) = html_report(&["corpus/seeds"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let committed = std::fs::read_to_string(root().join("docs/seeds-report.html")).unwrap();
    assert!(
        html == committed,
        "docs/seeds-report.html is stale: run scripts/report-screenshot"
    );
}

#[test]
fn a_single_article_has_no_index() {
    let seed = seeds().join("001_47928d6a448b7187.txt");
    let (out, html) = html_report(&[seed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!html.contains("<table"));
    assert!(html.contains("<article id=\"a0\" data-label=\"real\""));
    assert!(html.contains("1 article: 0 satire, 1 real."));
}

/// Debian's `chromium`, or another Chromium on the PATH.
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(PathBuf::from)
}

/// Runs headless Chromium on `page` with `extra` arguments; returns its
/// stdout and its log (stderr), where console messages appear as
/// `CONSOLE` lines.
fn headless(browser: &Path, page: &Path, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,1500",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn console_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

#[test]
fn seeds_report_loads_in_headless_chromium_without_console_messages() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no Chromium (apt-get install chromium; .ci/run does)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("seeds.html");
    let out = satire(
        &[
            "explain",
            "--format",
            "html",
            "-o",
            page.to_str().unwrap(),
            "corpus/seeds",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // The page as Chromium built it: our script ran to its end.
    let (dom, log) = headless(&browser, &page, &["--dump-dom"]);
    assert!(console_lines(&log).is_empty(), "{log}");
    assert!(dom.contains("data-ready=\"1\""), "script did not finish");
    assert_eq!(dom.matches("<article id=").count(), 5);

    // A screenshot of it.
    let png = dir.path().join("seeds.png");
    let (_, log) = headless(
        &browser,
        &page,
        &[&format!("--screenshot={}", png.display())],
    );
    assert!(console_lines(&log).is_empty(), "{log}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height as asked.
    assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 1200);
    assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), 1500);
    assert!(bytes.len() > 50_000, "a blank page compresses far smaller");

    // Clicking the P(satire) header sorts the index, most satirical first;
    // clicking again reverses it. A harness script clicks and records the
    // row order in the DOM.
    let html = std::fs::read_to_string(&page).unwrap();
    let harness = r#"<script>
var b = document.querySelector('th button[data-col="2"]');
function order() {
  return Array.prototype.map.call(document.querySelectorAll('#index tbody tr'),
    function (r) { return r.cells[0].dataset.v; }).join(',');
}
b.click(); document.body.dataset.desc = order();
b.click(); document.body.dataset.asc = order();
document.body.dataset.sort = b.parentElement.getAttribute('aria-sort');
</script></body>"#;
    let probe = dir.path().join("probe.html");
    std::fs::write(&probe, html.replace("</body>", harness)).unwrap();
    let (dom, log) = headless(&browser, &probe, &["--dump-dom"]);
    assert!(console_lines(&log).is_empty(), "{log}");
    let attr = |name: &str| {
        let at = dom.find(&format!("data-{name}=\"")).unwrap() + name.len() + 7;
        dom[at..at + dom[at..].find('"').unwrap()].to_string()
    };
    // The expected order, from `satire score`.
    let scored = score_rows(&satire(&["score", "corpus/seeds"], None));
    let mut by_p: Vec<(usize, f64)> = scored
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r.2.unwrap()))
        .collect();
    by_p.sort_by(|a, b| b.1.total_cmp(&a.1));
    let desc: Vec<String> = by_p.iter().map(|(i, _)| i.to_string()).collect();
    assert_eq!(attr("desc"), desc.join(","));
    let asc: Vec<String> = desc.iter().rev().cloned().collect();
    assert_eq!(attr("asc"), asc.join(","));
    assert_eq!(attr("sort"), "ascending");
    assert_eq!(desc[0], "0", "the satire seed sorts first");
}
