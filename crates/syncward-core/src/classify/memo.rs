//! A memo for bulk classification. Real logs repeat a few hundred errors
//! with different record ids, emails and timestamps; the memo classifies each
//! distinct error once. Its key masks only parts the classifier never reads
//! (emails, long digit runs, long ids without underscores), so a hit returns
//! exactly what a fresh classification would (tested in `tests.rs`).

use super::{Classification, Classifier, Input};
use crate::model::Crm;
use std::collections::HashMap;

/// Entries kept before the memo starts over; bounds memory on adversarial input.
pub const MEMO_CAPACITY: usize = 1 << 16;

type Key = (String, Option<Crm>, Option<u16>);

pub struct Memo<'c> {
    engine: &'c Classifier,
    map: HashMap<Key, Classification, foldhash::fast::RandomState>,
    hits: u64,
    misses: u64,
}

impl<'c> Memo<'c> {
    pub fn new(engine: &'c Classifier) -> Self {
        Memo {
            engine,
            map: HashMap::with_capacity_and_hasher(1024, foldhash::fast::RandomState::default()),
            hits: 0,
            misses: 0,
        }
    }

    pub fn classify(&mut self, input: &Input<'_>) -> Classification {
        let key = (memo_key(input.text), input.crm, input.http_status);
        if let Some(c) = self.map.get(&key) {
            self.hits += 1;
            return c.clone();
        }
        self.misses += 1;
        let c = self.engine.classify(input);
        if self.map.len() >= MEMO_CAPACITY {
            self.map.clear();
        }
        self.map.insert(key, c.clone());
        c
    }

    /// (hits, misses) so far.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }
}

/// The text with emails, digit runs of 5 or more and long mixed ids masked.
/// Codes (`0x80040237`, `-2147220937`, `INVALID_FIELD`), HTTP statuses and
/// field names (which carry underscores or are short) are never masked.
pub fn memo_key(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let c = b[i];
        if !c.is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        // A token: letters, digits, and inner . - @ + (emails, uuids).
        while i < b.len()
            && (b[i].is_ascii_alphanumeric()
                || b[i] == b'_'
                || (matches!(b[i], b'.' | b'-' | b'@' | b'+')
                    && i + 1 < b.len()
                    && b[i + 1].is_ascii_alphanumeric()))
        {
            i += 1;
        }
        let token = &b[start..i];
        let prev = if start > 0 { b[start - 1] } else { b' ' };
        if volatile(token, prev) {
            out.push_str(&text[copied..start]);
            out.push('\u{1}');
            copied = i;
        }
    }
    out.push_str(&text[copied..]);
    out
}

fn volatile(token: &[u8], prev: u8) -> bool {
    if prev == b'-' || token.starts_with(b"0x") || token.starts_with(b"0X") {
        return false; // signed decimal and hex vendor codes
    }
    if token.contains(&b'@') {
        return true;
    }
    if token.contains(&b'_') {
        return false; // codes and field names
    }
    let digits = token.iter().filter(|x| x.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    let mut run = 0;
    let mut longest = 0;
    for x in token {
        if x.is_ascii_digit() {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest >= 5 || (token.len() >= 12 && digits >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_only_what_the_classifier_ignores() {
        assert_eq!(
            memo_key("duplicates value on record with id: 001Vr00000m4eGCIAY by jane@x.io"),
            "duplicates value on record with id: \u{1} by \u{1}"
        );
        assert_eq!(
            memo_key("0x80040237 and -2147220937 status 401 Region__c"),
            "0x80040237 and -2147220937 status 401 Region__c"
        );
        assert_eq!(memo_key("Existing ID: 37765128953."), "Existing ID: \u{1}.");
        assert_eq!(memo_key("a43683b0-5717-4ceb-80b4-104d02915d8c"), "\u{1}");
        assert_eq!(memo_key(""), "");
    }
}
