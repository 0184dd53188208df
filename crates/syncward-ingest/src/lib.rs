//! syncward-ingest: reading the logs people already have. Every event keeps
//! its origin (`file:line`) so a report can cite evidence, and bad input is
//! reported line by line, never dropped silently.

pub mod lines;

pub use lines::{Line, LineError, LineReader, MAX_LINE};
