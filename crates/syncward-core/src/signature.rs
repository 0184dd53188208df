//! An error's identity with the volatile parts removed, so "identical
//! failures" can be counted: record ids, emails, numbers, dates, URLs and
//! quoted values become placeholders. Two errors that differ only in such
//! parts share a signature.

use crate::classify::normalize;

/// Signatures longer than this are cut (at a character boundary).
pub const MAX_SIGNATURE: usize = 400;

const JOINERS: &[u8] = b".-:/+@";

/// The signature of an error text. Deterministic and total.
pub fn signature(text: &str) -> String {
    let text = normalize(text);
    let t = text.as_ref();
    let b = t.as_bytes();
    let mut out = String::with_capacity(t.len().min(MAX_SIGNATURE + 8));
    let mut prev_word_start: Option<usize> = None;
    let mut i = 0;
    while i < b.len() && out.len() < MAX_SIGNATURE {
        let c = b[i];
        if c.is_ascii_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            i += 1;
            continue;
        }
        if (c == b'\'' || c == b'"')
            && let Some(end) = closing_quote(b, i)
            && is_value_like(&t[i + 1..end])
        {
            out.push(c as char);
            out.push_str("<v>");
            out.push(c as char);
            i = end + 1;
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'_' {
            let mut end = i;
            while end < b.len()
                && (b[end].is_ascii_alphanumeric()
                    || b[end] == b'_'
                    || (JOINERS.contains(&b[end])
                        && end + 1 < b.len()
                        && b[end + 1].is_ascii_alphanumeric()))
            {
                end += 1;
            }
            let chunk = &t[i..end];
            push_chunk(&mut out, chunk, prev_word_start.map(|s| &t[s..i]));
            prev_word_start = Some(i);
            i = end;
            continue;
        }
        // Any other character (punctuation, non-ASCII) is kept as it is.
        let ch_len = t[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&t[i..i + ch_len]);
        i += ch_len;
    }
    while out.len() > MAX_SIGNATURE {
        out.pop();
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

fn closing_quote(b: &[u8], open: usize) -> Option<usize> {
    let q = b[open];
    let limit = (open + 66).min(b.len());
    (open + 1..limit)
        .find(|&j| b[j] == q)
        .filter(|&j| j > open + 1 && !b[open + 1..j].iter().any(|x| x.is_ascii_whitespace()))
}

/// A quoted single token that is data, not a name: 'Charity', "Jane",
/// 'a@b.co'. Field and code names ('firstname', "errorCode",
/// 'Custom__c', "INVALID_FIELD") are kept, since they say what failed.
fn is_value_like(s: &str) -> bool {
    if !s.chars().any(char::is_alphanumeric) {
        return false; // punctuation between two quotes: `":"` in JSON
    }
    let ident = s
        .bytes()
        .next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == b'_')
        && s.bytes().all(|x| x.is_ascii_alphanumeric() || x == b'_');
    if !ident {
        return true;
    }
    let has_digit = s.bytes().any(|x| x.is_ascii_digit());
    let field_like = s.contains('_')
        || s.bytes().next().is_some_and(|f| f.is_ascii_lowercase())
        || s.bytes().all(|x| x.is_ascii_uppercase());
    has_digit || !field_like
}

fn push_chunk(out: &mut String, chunk: &str, prev_word: Option<&str>) {
    if chunk.contains('@') && chunk.rsplit('@').next().is_some_and(|d| d.contains('.')) {
        out.push_str("<email>");
        return;
    }
    if (chunk.starts_with("http") || chunk.starts_with("www.")) && chunk.contains('.') {
        out.push_str("<url>");
        return;
    }
    if !chunk.bytes().any(|x| x.is_ascii_digit()) {
        out.push_str(chunk);
        return;
    }
    // An HTTP status after "status", "code", "HTTP" or "error" is meaning, not noise.
    if chunk.len() == 3
        && chunk.bytes().all(|x| x.is_ascii_digit())
        && (b'1'..=b'5').contains(&chunk.as_bytes()[0])
        && prev_word.is_some_and(|w| {
            let w = w.trim().trim_end_matches([':', '=']).to_ascii_lowercase();
            w.ends_with("status") || w.ends_with("code") || w == "http" || w == "error"
        })
    {
        out.push_str(chunk);
        return;
    }
    // Mask each digit-bearing segment; consecutive masked segments merge.
    let mut masked_run = false;
    let mut run_numeric = true;
    let mut pending_joiner: Option<char> = None;
    let mut seg_start = 0;
    let bytes = chunk.as_bytes();
    let flush = |out: &mut String, masked_run: &mut bool, run_numeric: &mut bool| {
        if *masked_run {
            out.push_str(if *run_numeric { "<n>" } else { "<id>" });
            *masked_run = false;
            *run_numeric = true;
        }
    };
    for j in 0..=bytes.len() {
        if j < bytes.len() && !JOINERS.contains(&bytes[j]) {
            continue;
        }
        let seg = &chunk[seg_start..j];
        if seg.bytes().any(|x| x.is_ascii_digit()) {
            masked_run = true;
            run_numeric &= seg
                .bytes()
                .all(|x| x.is_ascii_digit() || x == b'T' || x == b'Z');
            pending_joiner = None;
        } else {
            flush(out, &mut masked_run, &mut run_numeric);
            if let Some(jc) = pending_joiner.take() {
                out.push(jc);
            }
            out.push_str(seg);
        }
        if j < bytes.len() {
            if masked_run {
                pending_joiner = Some(bytes[j] as char);
            } else {
                out.push(bytes[j] as char);
            }
        }
        seg_start = j + 1;
    }
    flush(out, &mut masked_run, &mut run_numeric);
    if let Some(jc) = pending_joiner {
        out.push(jc);
    }
}

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn record_ids_do_not_matter() {
        let a = signature(
            "duplicate value found: Email__c duplicates value on record with id: 001Vr00000m4eGCIAY",
        );
        let b = signature(
            "duplicate value found: Email__c duplicates value on record with id: 001Vr00000xyZZZIAQ",
        );
        assert_eq!(a, b);
        assert_eq!(
            a,
            "duplicate value found: Email__c duplicates value on record with id: <id>"
        );
    }

    #[test]
    fn emails_numbers_dates_and_values() {
        assert_eq!(
            signature("Contact already exists. Existing ID: 37765128953"),
            "Contact already exists. Existing ID: <n>"
        );
        assert_eq!(
            signature("jane.doe@example.com is not a valid email"),
            "<email> is not a valid email"
        );
        assert_eq!(
            signature(
                "Cannot deserialize instance of datetime from VALUE_STRING value 2046-04-05 17:00:00 at [line:1, column:123]"
            ),
            "Cannot deserialize instance of datetime from VALUE_STRING value <n> <n> at [line:<n>, column:<n>]"
        );
        assert_eq!(
            signature("Cannot convert the literal 'Charity' to the expected type"),
            "Cannot convert the literal '<v>' to the expected type"
        );
    }

    #[test]
    fn field_names_and_statuses_are_kept() {
        assert_eq!(
            signature("No such column 'Region__c' on entity 'Lead'"),
            "No such column 'Region__c' on entity '<v>'"
        );
        assert_eq!(
            signature("Request failed with status code 409"),
            "Request failed with status code 409"
        );
        assert_ne!(
            signature("Request failed with status code 409"),
            signature("Request failed with status code 500")
        );
        assert_eq!(
            signature("GET /services/data/v54.0/sobjects/Contact/0038M000001"),
            "GET /services/data/<id>/sobjects/Contact/<id>"
        );
    }

    #[test]
    fn whitespace_and_escaping_fold() {
        assert_eq!(signature("a\n\n  b\\n c"), "a b c");
        assert_eq!(signature(""), "");
    }
}
