//! Any bytes (decoded lossily) through the tokenizer and the scorer: no
//! panic, the fast path equals the reference path token for token, and the
//! scoring table path equals the string-lookup path score for score, for a
//! new scorer and for one that has scored every input before (what it keeps
//! between texts, its memo of short words' answers and the presence counts
//! it resets for each text, is then in play).
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use satire::model::Model;
use satire::score::Scorer;
use satire::tokenize::{text_shape, Tokenizer, TokenizerConfig};

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::embedded().expect("the embedded model loads"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let configs = [
        TokenizerConfig::default(),
        TokenizerConfig {
            lowercase: true,
            ..TokenizerConfig::default()
        },
    ];
    for cfg in configs {
        let tok = Tokenizer::new(cfg);
        assert_eq!(tok.tokens_at(&text, false), tok.tokens_at(&text, true));
    }
    assert!(text_shape(&text).iter().all(|x| x.is_finite()));
    static USED: OnceLock<Mutex<Scorer<'static>>> = OnceLock::new();
    let fast = Scorer::new(model()).score(&text);
    let reference = Scorer::new(model()).reference_path(true).score(&text);
    assert_eq!(fast, reference);
    let mut used = USED
        .get_or_init(|| Mutex::new(Scorer::new(model())))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    assert_eq!(used.score(&text), reference);
    assert!(fast.p_satire.is_finite() && (0.0..=1.0).contains(&fast.p_satire));
});
