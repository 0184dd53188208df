//! syncward-store: what the sync runner must not forget. Runs, the journal
//! (each batch written down before it is sent and its results after), and
//! the review queue. Two implementations of the same traits: an embedded
//! SQLite file (the default; WAL mode with `synchronous=FULL`, so a run
//! killed at any instant leaves a journal that says exactly what is known)
//! and PostgreSQL, for a team that shares one journal and one review queue.

mod postgres;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the state database {file}: {message}")]
    Open { file: String, message: String },
    #[error("state database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("state database (PostgreSQL): {0}")]
    Postgres(String),
    #[error("no review-queue item {0}")]
    NoItem(i64),
}

type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Run {
    pub id: i64,
    pub started_ms: i64,
    pub crm: String,
    pub object: String,
    pub source: String,
    pub mapping: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Batch {
    pub id: i64,
    pub run_id: i64,
    pub seq: i64,
    pub state: String,
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueueItem {
    pub id: i64,
    pub run: i64,
    pub record: String,
    pub layer: String,
    pub reason: String,
    pub evidence: String,
    /// The record as it would be sent: CRM field -> value.
    pub payload: serde_json::Value,
    pub status: String,
    pub created_ms: i64,
}

/// A record held back for a person.
#[derive(Debug, Clone, Copy)]
pub struct NewItem<'a> {
    pub run: i64,
    pub key: &'a str,
    pub layer: &'a str,
    pub reason: &'a str,
    /// file:line of the events behind it.
    pub evidence: &'a str,
    /// The record as it would be sent.
    pub payload: &'a serde_json::Value,
    pub now_ms: i64,
}

/// What the runner needs from durable storage.
pub trait Journal {
    fn begin_run(
        &mut self,
        crm: &str,
        object: &str,
        source: &str,
        mapping: &str,
        now_ms: i64,
    ) -> Result<i64>;
    /// The newest run for this source and mapping that did not finish.
    fn unfinished_run(&self, source: &str, mapping: &str) -> Result<Option<Run>>;
    fn finish_run(&mut self, run: i64, status: &str, summary: &str, now_ms: i64) -> Result<()>;
    /// Written down (durably) before the batch is sent.
    fn batch_sending(&mut self, run: i64, seq: i64, keys: &[String], now_ms: i64) -> Result<i64>;
    /// The batch's outcome: per key `confirmed` (with the CRM id) or `failed`.
    /// A review-queue item a person `released` whose record is now
    /// confirmed becomes `synced`.
    fn batch_done(
        &mut self,
        run: i64,
        batch: i64,
        results: &[(String, bool, Option<String>)],
        now_ms: i64,
    ) -> Result<()>;
    /// Batches sent but never answered (the run died or the connection dropped).
    fn in_flight(&self, run: i64) -> Result<Vec<Batch>>;
    /// Keys confirmed written in this run.
    fn confirmed(&self, run: i64) -> Result<std::collections::HashSet<String>>;
    fn enqueue(&mut self, item: &NewItem<'_>) -> Result<i64>;
    /// Keys of this run that sit in the review queue (open).
    fn queued(&self, run: i64) -> Result<std::collections::HashSet<String>>;
    /// Keys held in the review queue by any run: not sent until released.
    fn held(&self) -> Result<std::collections::HashSet<String>>;
}

/// What `syncward queue` needs: the review queue as people see it.
pub trait ReviewQueue {
    /// Items in id order; only those with `status` when given.
    fn queue_list(&self, status: Option<&str>) -> Result<Vec<QueueItem>>;
    fn queue_item(&self, id: i64) -> Result<QueueItem> {
        self.queue_list(None)?
            .into_iter()
            .find(|q| q.id == id)
            .ok_or(StoreError::NoItem(id))
    }
    /// `released` items go back to the next run; `dropped` ones are given up.
    fn set_queue_status(&mut self, id: i64, status: &str, now_ms: i64) -> Result<()>;
}

/// Everything syncward keeps, whichever database keeps it.
pub trait Store: Journal + ReviewQueue {}
impl<T: Journal + ReviewQueue> Store for T {}

/// Where the state lives: a SQLite file, or a PostgreSQL URL
/// (`postgres://user@host/db`).
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_owned())
        } else {
            Location::Sqlite(PathBuf::from(text))
        }
    }

    /// Whether there is state to read (a PostgreSQL server is asked when
    /// opened).
    pub fn exists(&self) -> bool {
        match self {
            Location::Sqlite(path) => path.exists(),
            Location::Postgres(_) => true,
        }
    }

    /// The folder beside a SQLite file, for files a run writes (its events).
    pub fn folder(&self) -> &Path {
        match self {
            Location::Sqlite(path) => path.parent().unwrap_or(Path::new("")),
            Location::Postgres(_) => Path::new(".syncward"),
        }
    }
}

/// Shown to people: a URL's password is never printed.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&postgres::redact(url)),
        }
    }
}

/// Opens (and migrates) the state at `location`.
pub fn open(location: &Location) -> Result<Box<dyn Store>> {
    Ok(match location {
        Location::Sqlite(path) => Box::new(SqliteStore::open(path)?),
        Location::Postgres(url) => Box::new(PgStore::connect(url)?),
    })
}
