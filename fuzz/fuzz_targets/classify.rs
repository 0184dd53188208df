//! The classifier answers every input, and answers it the same way twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use syncward_core::{Classifier, Input};

fn engine() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| Classifier::builtin().expect("built-in rules load"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let a = engine().classify(&Input::text(text));
        let b = engine().classify(&Input::text(text));
        assert_eq!(a, b);
    }
});
