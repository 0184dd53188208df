//! PostgreSQL, for a team that shares one journal and one review queue:
//! the same tables as the SQLite file, in a schema of their own
//! (`syncward`), migrated on connect under an advisory lock (two people
//! starting at once migrate once). Every write is a committed transaction
//! before the call returns, so a killed run leaves the same journal as
//! with SQLite.
//!
//! The `postgres` client drives its own small runtime, which cannot be
//! entered from inside the runner's: the connection lives on a thread of
//! its own, and each call is handed to it and waited for.

use crate::{Batch, Journal, NewItem, QueueItem, Result, ReviewQueue, Run, StoreError};
use postgres::config::{Host, SslMode};
use postgres::{Client, Row};
use std::collections::HashSet;
use std::sync::mpsc;
use std::time::Duration;

/// Embedded migrations, applied in order; `syncward.schema_version` records
/// how far.
const MIGRATIONS: &[&str] = &["CREATE TABLE syncward.runs (
        id BIGSERIAL PRIMARY KEY,
        started_ms BIGINT NOT NULL,
        finished_ms BIGINT,
        crm TEXT NOT NULL,
        object TEXT NOT NULL,
        source TEXT NOT NULL,
        mapping TEXT NOT NULL,
        status TEXT NOT NULL,
        summary TEXT
    );
    CREATE TABLE syncward.batches (
        id BIGSERIAL PRIMARY KEY,
        run_id BIGINT NOT NULL REFERENCES syncward.runs(id),
        seq BIGINT NOT NULL,
        state TEXT NOT NULL,
        size BIGINT NOT NULL,
        keys TEXT NOT NULL,
        sent_ms BIGINT NOT NULL,
        done_ms BIGINT
    );
    CREATE TABLE syncward.records (
        run_id BIGINT NOT NULL REFERENCES syncward.runs(id),
        key TEXT NOT NULL,
        state TEXT NOT NULL,
        crm_id TEXT,
        batch_id BIGINT,
        updated_ms BIGINT NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    CREATE TABLE syncward.queue (
        id BIGSERIAL PRIMARY KEY,
        run_id BIGINT NOT NULL,
        key TEXT NOT NULL,
        layer TEXT NOT NULL,
        reason TEXT NOT NULL,
        evidence TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL
    );
    CREATE INDEX queue_status ON syncward.queue(status);
    CREATE INDEX batches_run ON syncward.batches(run_id, state);"];

/// The advisory lock migrations run under (any constant, the same for all).
const MIGRATION_LOCK: i64 = 0x5379_6e63_7761_7264;

type Job = Box<dyn FnOnce(&mut Client) + Send>;

pub struct PgStore {
    jobs: Option<mpsc::Sender<Job>>,
    worker: Option<std::thread::JoinHandle<()>>,
    /// Scrubbed from every message, in case a driver error quotes it.
    password: Option<String>,
}

impl PgStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/db`;
    /// `$PGPASSWORD` when the URL has no password) and migrates.
    ///
    /// TLS as [`tls_mode`] decides: always to a server on another machine
    /// (the certificate checked against the system's roots, or the CA in
    /// `sslrootcert=` / `$PGSSLROOTCERT`), never to this machine unless
    /// `sslmode=` asks; `sslmode=disable` turns it off.
    pub fn connect(url: &str) -> Result<PgStore> {
        let shown = redact(url);
        let (url, root_cert) = take_param(url, "sslrootcert");
        let explicit_mode = has_param(&url, "sslmode");
        let mut config: postgres::Config =
            url.parse().map_err(|e: postgres::Error| StoreError::Open {
                file: shown.clone(),
                message: format!("not a PostgreSQL URL: {e}"),
            })?;
        if config.get_password().is_none()
            && let Ok(p) = std::env::var("PGPASSWORD")
        {
            config.password(p);
        }
        let password = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .filter(|p| !p.is_empty());
        let open_err = |message: String| StoreError::Open {
            file: shown.clone(),
            message: scrub(&message, password.as_deref()),
        };
        let mode = tls_mode(
            config.get_hosts(),
            explicit_mode.then(|| config.get_ssl_mode()),
        );
        config.ssl_mode(mode);
        let root_cert = root_cert
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::var_os("PGSSLROOTCERT").map(Into::into));
        let tls = tls_connector(root_cert.as_deref()).map_err(open_err)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }

        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready, connected) = mpsc::sync_channel::<std::result::Result<(), String>>(1);
        let worker = std::thread::Builder::new()
            .name("syncward-postgres".into())
            .spawn(move || {
                let mut client = match config.connect(tls) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = ready.send(Err(describe(&e)));
                        return;
                    }
                };
                if let Err(e) = migrate(&mut client) {
                    let _ = ready.send(Err(format!("cannot set up its tables: {}", describe(&e))));
                    return;
                }
                if ready.send(Ok(())).is_err() {
                    return;
                }
                for job in inbox {
                    job(&mut client);
                }
            })
            .map_err(|e| open_err(e.to_string()))?;
        match connected.recv() {
            Ok(Ok(())) => Ok(PgStore {
                jobs: Some(jobs),
                worker: Some(worker),
                password,
            }),
            Ok(Err(message)) => Err(open_err(message)),
            Err(_) => Err(open_err("the connection thread stopped".into())),
        }
    }

    /// Runs `job` on the connection's thread and waits for its answer.
    fn call<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Client) -> std::result::Result<T, postgres::Error> + Send + 'static,
    ) -> Result<T> {
        let gone = || StoreError::Postgres("the connection to PostgreSQL is closed".into());
        let (answer, answered) = mpsc::sync_channel(1);
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(Box::new(move |client: &mut Client| {
                let _ = answer.send(job(client));
            }))
            .map_err(|_| gone())?;
        answered
            .recv()
            .map_err(|_| gone())?
            .map_err(|e| StoreError::Postgres(scrub(&describe(&e), self.password.as_deref())))
    }
}

#[cfg(feature = "testing")]
impl PgStore {
    /// Whether this connection is encrypted (the server's own view).
    pub fn tls_in_use(&self) -> Result<bool> {
        self.call(|c| {
            c.query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .map(|r| r.get(0))
        })
    }

    pub(crate) fn create_database(&self, name: &str) -> Result<()> {
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        self.call(move |c| c.batch_execute(&sql))
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Closing the job channel ends the thread, which closes the connection.
        self.jobs.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn migrate(client: &mut Client) -> std::result::Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS syncward;
         CREATE TABLE IF NOT EXISTS syncward.schema_version (version INTEGER NOT NULL);",
    )?;
    let version: i32 = tx
        .query_opt("SELECT max(version) FROM syncward.schema_version", &[])?
        .and_then(|r| r.get::<_, Option<i32>>(0))
        .unwrap_or(0);
    let known = MIGRATIONS.len() as i32;
    for sql in MIGRATIONS
        .iter()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.batch_execute(sql)?;
    }
    if version < known {
        tx.execute("DELETE FROM syncward.schema_version", &[])?;
        tx.execute(
            "INSERT INTO syncward.schema_version (version) VALUES ($1)",
            &[&known],
        )?;
    }
    tx.commit()
}

/// The database's own words when it gave any, else the driver's.
fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    // The driver's own words are short ("invalid configuration"); the
    // cause says which ("password missing").
    let mut said = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !said.contains(&more) {
            said.push_str(": ");
            said.push_str(&more);
        }
        cause = c.source();
    }
    if said.contains("UnknownIssuer") || said.contains("NotValidForName") {
        said.push_str(
            " (the server's certificate is not signed by a CA this machine trusts: \
             give its CA with sslrootcert=/path/ca.pem in the URL or $PGSSLROOTCERT)",
        );
    }
    if said.contains("password missing") {
        said.push_str(
            " (put it in $PGPASSWORD rather than in the URL, so it stays out of shell history)",
        );
    }
    said
}

/// The TLS mode for these hosts, given the URL's own `sslmode` if it has
/// one. To another machine: TLS required (a `prefer` that could fall back
/// to plain text is raised to `require`) unless `sslmode=disable`. To this
/// machine (loopback, a Unix socket): none unless asked, since nothing
/// leaves the machine and local servers often have certificates no one
/// signed (Debian's snakeoil).
fn tls_mode(hosts: &[Host], explicit: Option<SslMode>) -> SslMode {
    let remote = hosts.iter().any(|h| match h {
        Host::Tcp(name) => !is_loopback(name),
        Host::Unix(_) => false,
    });
    match (remote, explicit) {
        (_, Some(SslMode::Disable)) => SslMode::Disable,
        (true, _) => SslMode::Require,
        (false, Some(mode)) => mode,
        (false, None) => SslMode::Disable,
    }
}

/// rustls with the system's roots, plus the CA in `root_cert` (PEM).
fn tls_connector(
    root_cert: Option<&std::path::Path>,
) -> std::result::Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A system certificate rustls cannot use is skipped, as by every client.
        let _ = roots.add(cert);
    }
    if let Some(path) = root_cert {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| format!("cannot read the CA certificate {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("no PEM certificate in {}", path.display()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("the CA certificate {}: {e}", path.display()))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// The URL without the query parameter `name`, and its value (the
/// `postgres` client rejects parameters it does not know, such as libpq's
/// `sslrootcert`).
fn take_param(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut value = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some((k, v)) if k == name => {
                value = Some(v.to_owned());
                false
            }
            _ => true,
        })
        .collect();
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, value)
}

fn has_param(url: &str, name: &str) -> bool {
    url.split_once('?').is_some_and(|(_, q)| {
        q.split('&')
            .any(|pair| pair.split_once('=').is_some_and(|(k, _)| k == name))
    })
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn scrub(message: &str, password: Option<&str>) -> String {
    match password {
        Some(p) => message.replace(p, "**REDACTED**"),
        None => message.to_owned(),
    }
}

/// The URL as it may be shown: a password in it (`user:password@` or
/// `password=` in the query) reads `**REDACTED**`.
pub(crate) fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme) = out.find("://") {
        let start = scheme + 3;
        let end = out[start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..end].rfind('@')
            && let Some(colon) = out[start..start + at].find(':')
        {
            out.replace_range(start + colon + 1..start + at, "**REDACTED**");
        }
    }
    if let Some(q) = out.find('?') {
        let query: Vec<String> = out[q + 1..]
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=**REDACTED**"),
                _ => pair.to_owned(),
            })
            .collect();
        out.truncate(q + 1);
        out.push_str(&query.join("&"));
    }
    out
}

fn run_row(r: &Row) -> Run {
    Run {
        id: r.get(0),
        started_ms: r.get(1),
        crm: r.get(2),
        object: r.get(3),
        source: r.get(4),
        mapping: r.get(5),
        status: r.get(6),
    }
}

fn key_set(rows: Vec<Row>) -> HashSet<String> {
    rows.iter().map(|r| r.get::<_, String>(0)).collect()
}

impl Journal for PgStore {
    fn begin_run(
        &mut self,
        crm: &str,
        object: &str,
        source: &str,
        mapping: &str,
        now_ms: i64,
    ) -> Result<i64> {
        let (crm, object, source, mapping) = (
            crm.to_owned(),
            object.to_owned(),
            source.to_owned(),
            mapping.to_owned(),
        );
        self.call(move |c| {
            c.query_one(
                "INSERT INTO syncward.runs (started_ms, crm, object, source, mapping, status)
                 VALUES ($1, $2, $3, $4, $5, 'running') RETURNING id",
                &[&now_ms, &crm, &object, &source, &mapping],
            )
            .map(|r| r.get(0))
        })
    }

    fn unfinished_run(&self, source: &str, mapping: &str) -> Result<Option<Run>> {
        let (source, mapping) = (source.to_owned(), mapping.to_owned());
        self.call(move |c| {
            c.query_opt(
                "SELECT id, started_ms, crm, object, source, mapping, status FROM syncward.runs
                 WHERE source = $1 AND mapping = $2 AND status = 'running' ORDER BY id DESC LIMIT 1",
                &[&source, &mapping],
            )
            .map(|r| r.as_ref().map(run_row))
        })
    }

    fn finish_run(&mut self, run: i64, status: &str, summary: &str, now_ms: i64) -> Result<()> {
        let (status, summary) = (status.to_owned(), summary.to_owned());
        self.call(move |c| {
            c.execute(
                "UPDATE syncward.runs SET status = $1, summary = $2, finished_ms = $3 WHERE id = $4",
                &[&status, &summary, &now_ms, &run],
            )
            .map(drop)
        })
    }

    fn batch_sending(&mut self, run: i64, seq: i64, keys: &[String], now_ms: i64) -> Result<i64> {
        let keys = keys.to_vec();
        let listed = serde_json::to_string(&keys).unwrap_or_default();
        self.call(move |c| {
            let mut tx = c.transaction()?;
            let id: i64 = tx
                .query_one(
                    "INSERT INTO syncward.batches (run_id, seq, state, size, keys, sent_ms)
                     VALUES ($1, $2, 'sending', $3, $4, $5) RETURNING id",
                    &[&run, &seq, &(keys.len() as i64), &listed, &now_ms],
                )?
                .get(0);
            tx.execute(
                "INSERT INTO syncward.records (run_id, key, state, batch_id, updated_ms)
                 SELECT $1, k, 'sending', $2, $3 FROM unnest($4::text[]) AS k
                 ON CONFLICT (run_id, key) DO UPDATE
                 SET state = 'sending', batch_id = EXCLUDED.batch_id, updated_ms = EXCLUDED.updated_ms",
                &[&run, &id, &now_ms, &keys],
            )?;
            tx.commit()?;
            Ok(id)
        })
    }

    fn batch_done(
        &mut self,
        run: i64,
        batch: i64,
        results: &[(String, bool, Option<String>)],
        now_ms: i64,
    ) -> Result<()> {
        let keys: Vec<String> = results.iter().map(|r| r.0.clone()).collect();
        let states: Vec<&'static str> = results
            .iter()
            .map(|r| if r.1 { "confirmed" } else { "failed" })
            .collect();
        let crm_ids: Vec<Option<String>> = results.iter().map(|r| r.2.clone()).collect();
        self.call(move |c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "UPDATE syncward.records AS r
                 SET state = u.state, crm_id = COALESCE(u.crm_id, r.crm_id), updated_ms = $1
                 FROM unnest($2::text[], $3::text[], $4::text[]) AS u(key, state, crm_id)
                 WHERE r.run_id = $5 AND r.key = u.key",
                &[&now_ms, &keys, &states, &crm_ids, &run],
            )?;
            // A record a person released from the queue has now landed.
            tx.execute(
                "UPDATE syncward.queue AS q SET status = 'synced', updated_ms = $1
                 FROM unnest($2::text[], $3::text[]) AS u(key, state)
                 WHERE q.status = 'released' AND q.key = u.key AND u.state = 'confirmed'",
                &[&now_ms, &keys, &states],
            )?;
            tx.execute(
                "UPDATE syncward.batches SET state = 'done', done_ms = $1 WHERE id = $2",
                &[&now_ms, &batch],
            )?;
            tx.commit()
        })
    }

    fn in_flight(&self, run: i64) -> Result<Vec<Batch>> {
        self.call(move |c| {
            c.query(
                "SELECT id, run_id, seq, state, keys FROM syncward.batches
                 WHERE run_id = $1 AND state = 'sending' ORDER BY seq",
                &[&run],
            )
            .map(|rows| {
                rows.iter()
                    .map(|r| Batch {
                        id: r.get(0),
                        run_id: r.get(1),
                        seq: r.get(2),
                        state: r.get(3),
                        keys: serde_json::from_str(r.get(4)).unwrap_or_default(),
                    })
                    .collect()
            })
        })
    }

    fn confirmed(&self, run: i64) -> Result<HashSet<String>> {
        self.call(move |c| {
            c.query(
                "SELECT key FROM syncward.records WHERE run_id = $1 AND state = 'confirmed'",
                &[&run],
            )
            .map(key_set)
        })
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
        let row = [key, layer, reason, evidence].map(str::to_owned);
        let payload = payload.to_string();
        self.call(move |c| {
            let [key, layer, reason, evidence] = &row;
            c.query_one(
                "INSERT INTO syncward.queue
                 (run_id, key, layer, reason, evidence, payload, status, created_ms, updated_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $7) RETURNING id",
                &[&run, key, layer, reason, evidence, &payload, &now_ms],
            )
            .map(|r| r.get(0))
        })
    }

    fn queued(&self, run: i64) -> Result<HashSet<String>> {
        self.call(move |c| {
            c.query(
                "SELECT key FROM syncward.queue WHERE run_id = $1 AND status = 'open'",
                &[&run],
            )
            .map(key_set)
        })
    }

    fn held(&self) -> Result<HashSet<String>> {
        self.call(|c| {
            c.query("SELECT key FROM syncward.queue WHERE status = 'open'", &[])
                .map(key_set)
        })
    }
}

impl ReviewQueue for PgStore {
    fn queue_list(&self, status: Option<&str>) -> Result<Vec<QueueItem>> {
        let status = status.map(str::to_owned);
        self.call(move |c| {
            c.query(
                "SELECT id, run_id, key, layer, reason, evidence, payload, status, created_ms
                 FROM syncward.queue WHERE ($1::text IS NULL OR status = $1) ORDER BY id",
                &[&status],
            )
            .map(|rows| {
                rows.iter()
                    .map(|r| QueueItem {
                        id: r.get(0),
                        run: r.get(1),
                        record: r.get(2),
                        layer: r.get(3),
                        reason: r.get(4),
                        evidence: r.get(5),
                        payload: serde_json::from_str(r.get(6)).unwrap_or(serde_json::Value::Null),
                        status: r.get(7),
                        created_ms: r.get(8),
                    })
                    .collect()
            })
        })
    }

    fn set_queue_status(&mut self, id: i64, status: &str, now_ms: i64) -> Result<()> {
        let status = status.to_owned();
        let changed = self.call(move |c| {
            c.execute(
                "UPDATE syncward.queue SET status = $1, updated_ms = $2 WHERE id = $3",
                &[&status, &now_ms, &id],
            )
        })?;
        if changed == 0 {
            return Err(StoreError::NoItem(id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://ops:s3cret@db.internal:5432/sync?sslmode=disable"),
            "postgres://ops:**REDACTED**@db.internal:5432/sync?sslmode=disable"
        );
        assert_eq!(
            redact("postgresql://ops@localhost/sync?password=s3cret&application_name=x"),
            "postgresql://ops@localhost/sync?password=**REDACTED**&application_name=x"
        );
        assert_eq!(
            redact("postgres://localhost/sync"),
            "postgres://localhost/sync"
        );
        assert_eq!(
            scrub("bad s3cret here", Some("s3cret")),
            "bad **REDACTED** here"
        );
    }

    proptest::proptest! {
        /// Whatever the password (URL-encoded as a URL carries it), it is
        /// not in what is shown, in the user part or in the query.
        #[test]
        fn a_password_never_shows(
            user in "[a-z][a-z0-9_]{0,10}",
            password in "[A-Za-z0-9%!*._~-]{6,24}",
            host in "[a-z][a-z0-9.-]{0,20}",
        ) {
            proptest::prop_assume!(!format!("{user}{host}/crm").contains(&password));
            for url in [
                format!("postgres://{user}:{password}@{host}:5432/crm?sslmode=require"),
                format!("postgresql://{user}@{host}/crm?password={password}"),
            ] {
                let shown = redact(&url);
                proptest::prop_assert!(!shown.contains(&password), "{shown}");
                proptest::prop_assert!(shown.contains("**REDACTED**"), "{shown}");
            }
        }
    }

    #[test]
    fn tls_always_to_another_machine_never_needed_on_this_one() {
        let tcp = |h: &str| vec![Host::Tcp(h.to_owned())];
        for host in ["localhost", "127.0.0.1", "[::1]", "::1"] {
            assert!(is_loopback(host), "{host}");
            assert_eq!(tls_mode(&tcp(host), None), SslMode::Disable);
            assert_eq!(
                tls_mode(&tcp(host), Some(SslMode::Require)),
                SslMode::Require
            );
        }
        let unix = vec![Host::Unix("/var/run/postgresql".into())];
        assert_eq!(tls_mode(&unix, None), SslMode::Disable);
        let remote = tcp("db.internal");
        assert_eq!(tls_mode(&remote, None), SslMode::Require);
        assert_eq!(tls_mode(&remote, Some(SslMode::Prefer)), SslMode::Require);
        assert_eq!(tls_mode(&remote, Some(SslMode::Disable)), SslMode::Disable);
        assert_eq!(
            take_param(
                "postgres://h/db?sslmode=require&sslrootcert=/ca.pem",
                "sslrootcert"
            ),
            (
                "postgres://h/db?sslmode=require".to_owned(),
                Some("/ca.pem".to_owned())
            )
        );
        assert_eq!(
            take_param("postgres://h/db?sslrootcert=/ca.pem", "sslrootcert"),
            ("postgres://h/db".to_owned(), Some("/ca.pem".to_owned()))
        );
        assert!(has_param("postgres://h/db?a=1&sslmode=disable", "sslmode"));
        assert!(!has_param("postgres://h/db?a=1", "sslmode"));
    }
}
