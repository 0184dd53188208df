//! The log readers must be total on any bytes: no panic, and every line of
//! a syncward events log is accounted for, as an event or as a problem with
//! its line number (the hand-written scanner and its two-thread reader).
#![no_main]

use libfuzzer_sys::fuzz_target;
use syncward_core::Event;
use syncward_ingest::{Format, Problem, Sink};

#[derive(Default)]
struct Count {
    events: u64,
    line_problems: u64,
}

impl Sink for Count {
    fn event(&mut self, _event: &Event<'_>) {
        self.events += 1;
    }
    fn problem(&mut self, problem: Problem) {
        self.line_problems += u64::from(problem.line.is_some());
    }
}

fuzz_target!(|data: &[u8]| {
    let mut count = Count::default();
    let input = Box::new(std::io::Cursor::new(data.to_vec()));
    if syncward_ingest::read_from(input, "fuzz.jsonl", Format::Events, &mut count).is_ok() {
        // Lines as the reader splits them: on \n, a final line without one.
        let lines = data
            .split(|&b| b == b'\n')
            .enumerate()
            .filter(|(i, line)| {
                let last = *i == data.split(|&b| b == b'\n').count() - 1;
                let text = line.strip_suffix(b"\r").unwrap_or(line);
                !(last && line.is_empty())
                    && !std::str::from_utf8(text).is_ok_and(|t| t.trim().is_empty())
            })
            .count() as u64;
        assert_eq!(count.events + count.line_problems, lines);
    }
    // Any format, detected from the content, is total too.
    let input = Box::new(std::io::Cursor::new(data.to_vec()));
    let _ = syncward_ingest::read_from(input, "fuzz.log", Format::Auto, &mut Count::default());
});
