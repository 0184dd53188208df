//! The normaliser and the signature must be total on any text: no panic, no
//! unbounded growth, and normalising is stable once nothing is left to undo.
#![no_main]

use libfuzzer_sys::fuzz_target;
use syncward_core::classify::normalize;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let once = normalize(text);
        assert!(once.len() <= text.len() + 8);
        let sig = syncward_core::signature(text);
        assert!(sig.len() <= syncward_core::signature::MAX_SIGNATURE);
    }
});
