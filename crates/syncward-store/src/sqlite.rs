//! The embedded default: one SQLite file in WAL mode with `synchronous=FULL`.

use crate::{Batch, Journal, NewItem, QueueItem, Result, ReviewQueue, Run, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// Embedded migrations, applied in order; `user_version` records how far.
const MIGRATIONS: &[&str] = &["CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_ms INTEGER NOT NULL,
        finished_ms INTEGER,
        crm TEXT NOT NULL,
        object TEXT NOT NULL,
        source TEXT NOT NULL,
        mapping TEXT NOT NULL,
        status TEXT NOT NULL,
        summary TEXT
    );
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        seq INTEGER NOT NULL,
        state TEXT NOT NULL,
        size INTEGER NOT NULL,
        keys TEXT NOT NULL,
        sent_ms INTEGER NOT NULL,
        done_ms INTEGER
    );
    CREATE TABLE records (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        key TEXT NOT NULL,
        state TEXT NOT NULL,
        crm_id TEXT,
        batch_id INTEGER,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    CREATE TABLE queue (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        layer TEXT NOT NULL,
        reason TEXT NOT NULL,
        evidence TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
    );
    CREATE INDEX queue_status ON queue(status);
    CREATE INDEX batches_run ON batches(run_id, state);"];

/// A `runs` row, selected as `id, started_ms, crm, object, source, mapping, status`.
fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Run> {
    Ok(Run {
        id: r.get(0)?,
        started_ms: r.get(1)?,
        crm: r.get(2)?,
        object: r.get(3)?,
        source: r.get(4)?,
        mapping: r.get(5)?,
        status: r.get(6)?,
    })
}

pub struct SqliteStore {
    conn: Connection,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                file: path.display().to_string(),
                message: e.to_string(),
            })?;
        }
        let conn = Connection::open(path).map_err(|e| StoreError::Open {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = SqliteStore { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }
}

impl ReviewQueue for SqliteStore {
    fn queue_list(&self, status: Option<&str>) -> Result<Vec<QueueItem>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, run_id, key, layer, reason, evidence, payload, status, created_ms FROM queue WHERE (?1 IS NULL OR status = ?1) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![status], |r| {
            let payload: String = r.get(6)?;
            Ok(QueueItem {
                id: r.get(0)?,
                run: r.get(1)?,
                record: r.get(2)?,
                layer: r.get(3)?,
                reason: r.get(4)?,
                evidence: r.get(5)?,
                payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                status: r.get(7)?,
                created_ms: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    fn set_queue_status(&mut self, id: i64, status: &str, now_ms: i64) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE queue SET status = ?1, updated_ms = ?2 WHERE id = ?3",
            params![status, now_ms, id],
        )?;
        if n == 0 {
            return Err(StoreError::NoItem(id));
        }
        Ok(())
    }
}

impl Journal for SqliteStore {
    fn begin_run(
        &mut self,
        crm: &str,
        object: &str,
        source: &str,
        mapping: &str,
        now_ms: i64,
    ) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO runs (started_ms, crm, object, source, mapping, status) VALUES (?1, ?2, ?3, ?4, ?5, 'running')",
            params![now_ms, crm, object, source, mapping],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn unfinished_run(&self, source: &str, mapping: &str) -> Result<Option<Run>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, started_ms, crm, object, source, mapping, status FROM runs WHERE source = ?1 AND mapping = ?2 AND status = 'running' ORDER BY id DESC LIMIT 1",
                params![source, mapping],
                run_row,
            )
            .optional()?)
    }

    fn finish_run(&mut self, run: i64, status: &str, summary: &str, now_ms: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET status = ?1, summary = ?2, finished_ms = ?3 WHERE id = ?4",
            params![status, summary, now_ms, run],
        )?;
        Ok(())
    }

    fn batch_sending(&mut self, run: i64, seq: i64, keys: &[String], now_ms: i64) -> Result<i64> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO batches (run_id, seq, state, size, keys, sent_ms) VALUES (?1, ?2, 'sending', ?3, ?4, ?5)",
            params![run, seq, keys.len() as i64, serde_json::to_string(keys).unwrap_or_default(), now_ms],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut up = tx.prepare(
                "INSERT INTO records (run_id, key, state, batch_id, updated_ms) VALUES (?1, ?2, 'sending', ?3, ?4)
                 ON CONFLICT(run_id, key) DO UPDATE SET state = 'sending', batch_id = ?3, updated_ms = ?4",
            )?;
            for k in keys {
                up.execute(params![run, k, id, now_ms])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    fn batch_done(
        &mut self,
        run: i64,
        batch: i64,
        results: &[(String, bool, Option<String>)],
        now_ms: i64,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut up = tx.prepare("UPDATE records SET state = ?1, crm_id = COALESCE(?2, crm_id), updated_ms = ?3 WHERE run_id = ?4 AND key = ?5")?;
            for (key, ok, crm_id) in results {
                up.execute(params![
                    if *ok { "confirmed" } else { "failed" },
                    crm_id,
                    now_ms,
                    run,
                    key
                ])?;
            }
        }
        {
            // A record a person released from the queue has now landed.
            let mut synced = tx.prepare(
                "UPDATE queue SET status = 'synced', updated_ms = ?1 WHERE status = 'released' AND key = ?2",
            )?;
            for (key, _, _) in results.iter().filter(|r| r.1) {
                synced.execute(params![now_ms, key])?;
            }
        }
        tx.execute(
            "UPDATE batches SET state = 'done', done_ms = ?1 WHERE id = ?2",
            params![now_ms, batch],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn in_flight(&self, run: i64) -> Result<Vec<Batch>> {
        let mut stmt = self.conn.prepare("SELECT id, run_id, seq, state, keys FROM batches WHERE run_id = ?1 AND state = 'sending' ORDER BY seq")?;
        let rows = stmt.query_map(params![run], |r| {
            let keys: String = r.get(4)?;
            Ok(Batch {
                id: r.get(0)?,
                run_id: r.get(1)?,
                seq: r.get(2)?,
                state: r.get(3)?,
                keys: serde_json::from_str(&keys).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    fn confirmed(&self, run: i64) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT key FROM records WHERE run_id = ?1 AND state = 'confirmed'")?;
        let rows = stmt.query_map(params![run], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn enqueue(&mut self, item: &NewItem<'_>) -> Result<i64> {
        let NewItem {
            run,
            key,
            layer,
            reason,
            evidence,
            payload,
            now_ms,
        } = *item;
        self.conn.execute(
            "INSERT INTO queue (run_id, key, layer, reason, evidence, payload, status, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?7)",
            params![run, key, layer, reason, evidence, payload.to_string(), now_ms],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn held(&self) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT key FROM queue WHERE status = 'open'")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn queued(&self, run: i64) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT key FROM queue WHERE run_id = ?1 AND status = 'open'")?;
        let rows = stmt.query_map(params![run], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}
