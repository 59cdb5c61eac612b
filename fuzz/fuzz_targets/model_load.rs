//! Any bytes as a model file, and as a model body behind a valid header
//! and checksum (so that the body's parser and the consistency checks are
//! reached): loading never panics, and a model that loads scores a text to
//! a finite probability.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use satire::model::Model;
use satire::score::Scorer;

fuzz_target!(|data: &[u8]| {
    let _ = Model::from_bytes(data, Path::new("fuzz"));
    if let Ok(model) = Model::from_bytes(&Model::frame(data), Path::new("fuzz")) {
        let s = Scorer::new(&model)
            .score("Area Man Passionate Defender Of What He Imagines Constitution To Be");
        assert!(s.p_satire.is_finite() && (0.0..=1.0).contains(&s.p_satire));
    }
});
