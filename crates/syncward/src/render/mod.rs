//! Output for people: plain text for a terminal, markdown for a ticket.

pub mod markdown;
pub mod text;

/// 1234567 -> "1,234,567"
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Evidence as a short list: at most `max` places.
pub fn cite(evidence: &[String], max: usize) -> String {
    let mut s = evidence
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if evidence.len() > max {
        s.push_str(&format!(" and {} more", evidence.len() - max));
    }
    s
}
