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

/// Records a job never got to (skipped, or Bulk API `unprocessedrecords`):
/// not failures, but not in the CRM either.
pub fn not_processed(n: u64) -> String {
    format!(
        "{} never processed (skipped, or left unprocessed when the job stopped): they are not in the CRM. Send only those again, one test record first.",
        plural(n, "record was", "records were")
    )
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
