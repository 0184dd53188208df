//! Opening inputs: files or standard input, gzip detected by its magic bytes.

use crate::IngestError;
use std::io::{self, BufRead, BufReader, Read};

/// An input; `Send` so a reader thread can read it ahead of the analysis.
pub type Input = Box<dyn BufRead + Send>;

const BUF: usize = 256 * 1024;

pub fn open(path: &str) -> Result<Input, IngestError> {
    if path == "-" {
        return Ok(Box::new(BufReader::with_capacity(BUF, io::stdin())));
    }
    let file = std::fs::File::open(path).map_err(|source| IngestError::Open {
        file: path.to_owned(),
        source,
    })?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(IngestError::Open {
            file: path.to_owned(),
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory, not a log file",
            ),
        });
    }
    Ok(Box::new(BufReader::with_capacity(BUF, file)))
}

pub fn maybe_gunzip(mut reader: Input, name: &str) -> Result<Input, IngestError> {
    let head = reader.fill_buf().map_err(|source| IngestError::Read {
        file: name.to_owned(),
        line: 0,
        source,
    })?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::read::MultiGzDecoder::new(reader);
        return Ok(Box::new(BufReader::with_capacity(
            BUF,
            GzErrors { inner: gz },
        )));
    }
    Ok(reader)
}

/// Text as UTF-8 whatever Windows tools wrote: a UTF-8 byte order mark
/// (Excel, PowerShell 7) is skipped, and UTF-16 with its mark (what
/// PowerShell 5 writes with `>` or `Out-File`) is decoded to UTF-8. Like
/// the gzip check, it looks at the first read only; anything else passes
/// through untouched (and bad bytes are reported line by line).
pub fn as_utf8(mut reader: Input, name: &str) -> Result<Input, IngestError> {
    let head = reader.fill_buf().map_err(|source| IngestError::Read {
        file: name.to_owned(),
        line: 0,
        source,
    })?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    } else if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        let utf16 = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .bom_sniffing(true)
            .strip_bom(true)
            .build(reader);
        return Ok(Box::new(BufReader::with_capacity(BUF, utf16)));
    }
    Ok(reader)
}

/// Turns a corrupt gzip stream into a plain I/O error with a clear message.
struct GzErrors<R> {
    inner: R,
}

impl<R: Read> Read for GzErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("the gzip data is damaged or cut short ({e})"),
            )
        })
    }
}
