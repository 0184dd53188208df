//! Undo the layers that logs and clients put around an error text, so the
//! matcher sees the vendor's words: JSON escaping (once or several times),
//! HTML entities, typographic quotes, Python reprs and truncation markers.

use std::borrow::Cow;

/// How many rounds of unescaping are tried at most. Texts escaped more deeply
/// than this are rare, and every round is linear, so the whole is bounded.
const MAX_ROUNDS: usize = 4;

/// Returns the text with escapes undone. Borrowed when nothing needed doing,
/// which is the common case and costs one pass over the bytes.
pub fn normalize(text: &str) -> Cow<'_, str> {
    if !needs_work(text) {
        return Cow::Borrowed(text);
    }
    let mut current = text.to_owned();
    for _ in 0..MAX_ROUNDS {
        let next = one_round(&current);
        if next == current {
            break;
        }
        current = next;
    }
    Cow::Owned(current)
}

fn needs_work(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr3(b'\\', b'&', 0xE2, bytes).is_some()
        || memchr::memmem::find(bytes, b"u'").is_some()
        || memchr::memmem::find(bytes, b"(truncated").is_some()
}

fn one_round(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.peek().map(|&(_, n)| n) {
                Some('"') | Some('\'') | Some('/') | Some('\\') => {
                    // `\\\"` collapses one level per round.
                    let (_, n) = chars.next().unwrap_or((i, '\\'));
                    out.push(n);
                }
                Some('n') | Some('r') | Some('t') => {
                    chars.next();
                    out.push(if text[i + 1..].starts_with('t') {
                        ' '
                    } else {
                        '\n'
                    });
                }
                Some('u') => {
                    let hex = text.get(i + 2..i + 6).unwrap_or("");
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(decoded) if hex.len() == 4 => {
                            for _ in 0..5 {
                                chars.next();
                            }
                            out.push(decoded);
                        }
                        _ => out.push('\\'),
                    }
                }
                _ => out.push('\\'),
            },
            '&' => {
                let rest = &text[i..];
                let entity = [
                    ("&quot;", '"'),
                    ("&#34;", '"'),
                    ("&#39;", '\''),
                    ("&#x27;", '\''),
                    ("&apos;", '\''),
                    ("&amp;", '&'),
                    ("&lt;", '<'),
                    ("&gt;", '>'),
                    ("&nbsp;", ' '),
                ]
                .into_iter()
                .find(|(e, _)| rest.starts_with(e));
                match entity {
                    Some((e, r)) => {
                        for _ in 1..e.len() {
                            chars.next();
                        }
                        out.push(r);
                    }
                    None => out.push('&'),
                }
            }
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => out.push('"'),
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' => out.push('\''),
            '\u{2013}' | '\u{2014}' => out.push('-'),
            '\u{2026}' => out.push_str("..."),
            'u' if text[i..].starts_with("u'")
                && (i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric()) =>
            {
                // Python 2 repr: u'errorCode' -> 'errorCode'
            }
            '(' if text[i..].starts_with("(truncated") => {
                // "(truncated...)" says the text was cut; the cut itself is not a signal.
                let end = text[i..].find(')').map_or(text.len(), |e| i + e + 1);
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(
            normalize("Session expired or invalid"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn undoes_nested_json_escaping() {
        let raw = r#"{"error":{"message":"[{\\\"message\\\":\\\"No such column\\\",\\\"errorCode\\\":\\\"INVALID_FIELD\\\"}]"}}"#;
        let n = normalize(raw);
        assert!(n.contains(r#""errorCode":"INVALID_FIELD""#), "{n}");
    }

    #[test]
    fn html_entities_and_typographic_quotes() {
        assert_eq!(
            normalize("API error: “&quot;INVALID_EMAIL&quot;”"),
            r#"API error: ""INVALID_EMAIL"""#
        );
    }

    #[test]
    fn python_repr_prefix() {
        assert_eq!(
            normalize("[{u'errorCode': u'QUERY_TOO_COMPLICATED'}]"),
            "[{'errorCode': 'QUERY_TOO_COMPLICATED'}]"
        );
        // A word ending in u is not a repr.
        assert_eq!(normalize("you'll see menu'"), "you'll see menu'");
    }

    #[test]
    fn unicode_escapes_and_newlines() {
        assert_eq!(normalize(r"caf\u00e9\nnext"), "café\nnext");
        assert_eq!(normalize(r"bad \u12"), r"bad \u12");
    }

    #[test]
    fn truncation_marker_removed() {
        assert_eq!(
            normalize("first error: X (truncated...)"),
            "first error: X "
        );
    }
}
