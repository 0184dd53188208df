//! The same journal and review-queue behaviour from both stores: an
//! embedded SQLite file and a real PostgreSQL server.

use syncward_store::testing::TestServer;
use syncward_store::{Location, NewItem, Store, StoreError, open};

/// Everything the runner and `syncward queue` rely on, against one store;
/// `reopen` gives the same state through a fresh connection.
fn journal_contract(mut s: Box<dyn Store>, reopen: &dyn Fn() -> Box<dyn Store>) {
    let run = s
        .begin_run("hubspot", "contacts", "a.csv", "m.toml", 1)
        .expect("run");
    let b1 = s
        .batch_sending(run, 1, &["a".into(), "b".into()], 2)
        .expect("b1");
    s.batch_done(
        run,
        b1,
        &[
            ("a".into(), true, Some("101".into())),
            ("b".into(), false, None),
        ],
        3,
    )
    .expect("done");
    // Sent, never answered: the run dies here.
    let b2 = s
        .batch_sending(run, 2, &["c".into(), "a".into()], 4)
        .expect("b2");
    drop(s);

    let mut s = reopen();
    assert_eq!(
        s.unfinished_run("a.csv", "m.toml")
            .expect("q")
            .map(|r| r.id),
        Some(run)
    );
    assert!(s.unfinished_run("b.csv", "m.toml").expect("q").is_none());
    let inflight = s.in_flight(run).expect("in flight");
    assert_eq!(inflight.len(), 1);
    assert_eq!(inflight[0].id, b2);
    assert_eq!(inflight[0].keys, vec!["c", "a"]);
    // "a" was confirmed, then sent again in the unanswered batch: not
    // confirmed until that batch's answer is known.
    assert!(s.confirmed(run).expect("c").is_empty());
    s.batch_done(
        run,
        b2,
        &[
            ("c".into(), true, Some("103".into())),
            ("a".into(), true, None),
        ],
        5,
    )
    .expect("done");
    let mut confirmed: Vec<String> = s.confirmed(run).expect("c").into_iter().collect();
    confirmed.sort();
    assert_eq!(confirmed, ["a", "c"]);
    assert!(s.in_flight(run).expect("in flight").is_empty());

    let payload = serde_json::json!({"email": "b@x.io", "lifecyclestage": "Customer"});
    let q = s
        .enqueue(&NewItem {
            run,
            key: "b",
            layer: "mapping",
            reason: "bad value for lifecyclestage",
            evidence: "t.log:1",
            payload: &payload,
            now_ms: 6,
        })
        .expect("enqueue");
    assert!(s.queued(run).expect("q").contains("b"));
    assert!(s.held().expect("held").contains("b"));
    let listed = s.queue_list(Some("open")).expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].payload, payload);
    assert_eq!(listed[0].reason, "bad value for lifecyclestage");
    s.set_queue_status(q, "released", 7).expect("release");
    assert_eq!(s.queue_item(q).expect("item").status, "released");
    assert!(s.held().expect("held").is_empty(), "released: sent again");
    // The next run sends it; until it is confirmed it stays released.
    let run2 = s
        .begin_run("hubspot", "contacts", "a.csv", "m.toml", 7)
        .expect("run 2");
    let b3 = s.batch_sending(run2, 1, &["b".into()], 7).expect("b3");
    s.batch_done(run2, b3, &[("b".into(), false, None)], 7)
        .expect("done");
    assert_eq!(s.queue_item(q).expect("item").status, "released");
    let b4 = s.batch_sending(run2, 2, &["b".into()], 8).expect("b4");
    s.batch_done(run2, b4, &[("b".into(), true, Some("102".into()))], 8)
        .expect("done");
    assert_eq!(s.queue_item(q).expect("item").status, "synced");
    s.finish_run(run2, "done", "{}", 8).expect("finish");
    assert!(s.queue_list(Some("open")).expect("list").is_empty());
    assert_eq!(s.queue_list(None).expect("list").len(), 1);
    assert!(matches!(
        s.set_queue_status(999, "dropped", 8),
        Err(StoreError::NoItem(999))
    ));
    assert!(matches!(s.queue_item(999), Err(StoreError::NoItem(999))));
    s.finish_run(run, "done", "{}", 9).expect("finish");
    assert!(s.unfinished_run("a.csv", "m.toml").expect("q").is_none());
}

#[test]
fn sqlite_keeps_the_journal_and_the_queue() {
    let dir = tempfile::tempdir().expect("tmp");
    let at = Location::parse(&dir.path().join("state/syncward.db").display().to_string());
    journal_contract(open(&at).expect("open"), &|| open(&at).expect("reopen"));
}

#[test]
fn postgres_keeps_the_journal_and_the_queue() {
    let server = TestServer::start().expect("a PostgreSQL server for the test");
    let at = Location::parse(&server.database("journal").expect("db"));
    journal_contract(open(&at).expect("open"), &|| open(&at).expect("reopen"));
    // Connecting again migrates nothing twice.
    open(&at).expect("second open");
}

#[test]
fn postgres_errors_name_the_server_and_never_the_password() {
    // Nothing listens in this socket folder.
    let at = Location::parse(
        "postgresql://ops:hunter2secret@/sync?host=/nonexistent-syncward&port=5999",
    );
    assert_eq!(
        at.to_string(),
        "postgresql://ops:**REDACTED**@/sync?host=/nonexistent-syncward&port=5999"
    );
    let Err(err) = open(&at) else {
        panic!("no server there");
    };
    let said = err.to_string();
    assert!(said.contains("cannot open the state database"), "{said}");
    assert!(said.contains("**REDACTED**"), "{said}");
    assert!(!said.contains("hunter2secret"), "{said}");
}

#[test]
fn postgres_over_tls_checks_the_servers_certificate() {
    use syncward_store::PgStore;
    let server = TestServer::start_with_tls().expect("a PostgreSQL server with TLS");
    let (url, ca) = server.tls.clone().expect("tls");
    // Trusting the CA that signed it: encrypted.
    let signed = format!("{url}?sslmode=require&sslrootcert={}", ca.display());
    let store = PgStore::connect(&signed).expect("TLS with the test CA");
    assert!(store.tls_in_use().expect("asked"));
    // Without that CA the certificate is nobody's: refused, not downgraded.
    let Err(err) = PgStore::connect(&format!("{url}?sslmode=require")) else {
        panic!("an unknown certificate must be refused");
    };
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    // On this machine with no sslmode: no TLS needed (nothing leaves it).
    let local = PgStore::connect(&url).expect("plain on loopback");
    assert!(!local.tls_in_use().expect("asked"));
}
