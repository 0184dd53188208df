//! A line reader that cannot be made to hold a huge line in memory and that
//! reports bad lines (too long, not UTF-8) with their number instead of
//! failing the whole input.

use std::io::{self, BufRead};

/// The longest line kept, in bytes. Longer lines are reported and skipped.
pub const MAX_LINE: usize = 1 << 20;

/// One line: its 1-based number and its text or what was wrong with it.
#[derive(Debug)]
pub struct Line {
    pub number: u64,
    pub text: Result<String, LineError>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("line is longer than {max} bytes ({len} bytes); skipped", max = MAX_LINE)]
    TooLong { len: usize },
    #[error(
        "line is not valid UTF-8 (byte {offset}); skipped. Save the file as UTF-8 and try again"
    )]
    NotUtf8 { offset: usize },
}

/// Reads lines of at most [`MAX_LINE`] bytes; `\r\n` and `\n` both end a line.
pub struct LineReader<R> {
    inner: R,
    number: u64,
    /// A line that spans two reads of the inner buffer is gathered here.
    buf: Vec<u8>,
    /// Bytes of the inner buffer lent out by the last call, consumed by the next.
    lent: usize,
    max: usize,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_max(inner, MAX_LINE)
    }

    pub fn with_max(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            number: 0,
            buf: Vec::new(),
            lent: 0,
            max,
        }
    }

    /// How many lines were read so far.
    pub fn lines_read(&self) -> u64 {
        self.number
    }

    /// The next line, `Ok(None)` at the end. I/O errors end the reading.
    pub fn next_line(&mut self) -> io::Result<Option<Line>> {
        Ok(self.next_borrowed()?.map(|(number, text)| Line {
            number,
            text: text.map(str::to_owned),
        }))
    }

    /// Like [`next_line`](Self::next_line), borrowing the text: straight
    /// from the inner buffer when the whole line is in it (no copy, no
    /// allocation), else from the reader's own buffer.
    pub fn next_borrowed(&mut self) -> io::Result<Option<(u64, Result<&str, LineError>)>> {
        self.inner.consume(std::mem::take(&mut self.lent));
        let whole = loop {
            match self.inner.fill_buf() {
                Ok(available) => break memchr::memchr(b'\n', available),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        if let Some(end) = whole {
            self.number += 1;
            self.lent = end + 1;
            let max = self.max;
            let available = self.inner.fill_buf()?;
            let line = &available[..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let text = if line.len() > max {
                Err(LineError::TooLong { len: end })
            } else {
                utf8(line)
            };
            return Ok(Some((self.number, text)));
        }
        self.gather()
    }

    /// A line that is not whole in the inner buffer: copied piece by piece,
    /// up to the length cap.
    fn gather(&mut self) -> io::Result<Option<(u64, Result<&str, LineError>)>> {
        self.buf.clear();
        let mut len = 0usize;
        let mut saw_any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            saw_any = true;
            let (chunk, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            len += chunk.len();
            if self.buf.len() < self.max {
                let room = self.max - self.buf.len();
                self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            let consumed = done.unwrap_or(available.len());
            self.inner.consume(consumed);
            if done.is_some() {
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        self.number += 1;
        if self.buf.last() == Some(&b'\r') && len <= self.max {
            self.buf.pop();
            len -= 1;
        }
        let text = if len > self.max {
            Err(LineError::TooLong { len })
        } else {
            utf8(&self.buf)
        };
        Ok(Some((self.number, text)))
    }
}

/// UTF-8 checked with SIMD (most of a large log is ASCII); the byte offset
/// of the first bad sequence comes from the standard check.
fn utf8(bytes: &[u8]) -> Result<&str, LineError> {
    simdutf8::basic::from_utf8(bytes).map_err(|_| LineError::NotUtf8 {
        offset: std::str::from_utf8(bytes)
            .err()
            .map_or(0, |e| e.valid_up_to()),
    })
}

impl<R: BufRead> Iterator for LineReader<R> {
    type Item = io::Result<Line>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_line().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8], max: usize) -> Vec<(u64, Result<String, LineError>)> {
        LineReader::with_max(input, max)
            .map(|l| l.map(|l| (l.number, l.text)))
            .collect::<io::Result<Vec<_>>>()
            .expect("in-memory reads do not fail")
    }

    #[test]
    fn splits_lines_and_strips_cr() {
        let got = read(b"a\r\nb\n\nc", 100);
        assert_eq!(
            got,
            vec![
                (1, Ok("a".into())),
                (2, Ok("b".into())),
                (3, Ok("".into())),
                (4, Ok("c".into()))
            ]
        );
        assert!(read(b"", 100).is_empty());
    }

    #[test]
    fn long_and_non_utf8_lines_are_reported_and_skipped() {
        let got = read(b"short\n0123456789abc\n\xff\xfe bad\nok\n", 10);
        assert_eq!(got[0], (1, Ok("short".into())));
        assert_eq!(got[1], (2, Err(LineError::TooLong { len: 13 })));
        assert_eq!(got[2], (3, Err(LineError::NotUtf8 { offset: 0 })));
        assert_eq!(got[3], (4, Ok("ok".into())));
    }

    #[test]
    fn long_lines_across_buffer_boundaries() {
        let mut data = vec![b'x'; 50_000];
        data.push(b'\n');
        data.extend_from_slice(b"next\n");
        let reader = io::BufReader::with_capacity(64, &data[..]);
        let got: Vec<_> = LineReader::with_max(reader, 1000)
            .map(|l| l.expect("read").text)
            .collect();
        assert_eq!(
            got,
            vec![Err(LineError::TooLong { len: 50_000 }), Ok("next".into())]
        );
    }

    #[test]
    fn lines_whole_in_the_buffer_and_across_it_read_alike() {
        let data = b"first\r\nsecond line\n\xc3\xa9t\xc3\xa9\n0123456789abc\r\nlast";
        let whole = read(data, 10);
        for capacity in [1, 3, 7, 16, 4096] {
            let reader = io::BufReader::with_capacity(capacity, &data[..]);
            let got: Vec<_> = LineReader::with_max(reader, 10)
                .map(|l| l.map(|l| (l.number, l.text)).expect("read"))
                .collect();
            assert_eq!(got, whole, "capacity {capacity}");
        }
        assert_eq!(whole[0], (1, Ok("first".into())));
        assert_eq!(whole[2], (3, Ok("été".into())));
        assert_eq!(whole[3].1, Err(LineError::TooLong { len: 14 }));
        assert_eq!(whole[4], (5, Ok("last".into())));
    }
}
