//! Drives the real `syncward` executable, as a user or a script would.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

fn syncward() -> Command {
    let mut cmd = Command::cargo_bin("syncward").expect("binary built");
    cmd.env("NO_COLOR", "1");
    cmd
}

fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

#[test]
fn classify_contract_one_line_per_input_in_order() {
    let input = std::fs::read(repo_file("examples/errors/mixed.jsonl")).expect("example exists");
    let out = syncward()
        .arg("classify")
        .write_stdin(input)
        .assert()
        .success();
    let lines = json_lines(&out.get_output().stdout);
    let layers: Vec<&str> = lines
        .iter()
        .map(|l| l["layer"].as_str().expect("layer"))
        .collect();
    assert_eq!(
        layers,
        [
            "auth",
            "mapping",
            "mapping",
            "transport",
            "transport",
            "dedupe",
            "record",
            "mapping",
            "transport"
        ]
    );
    for l in &lines {
        let mut keys: Vec<&str> = l
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["advice", "code", "fields", "layer", "rule", "transient"]
        );
    }
    assert_eq!(lines[1]["fields"], serde_json::json!(["Company"]));
    assert_eq!(lines[3]["transient"], true);
}

#[test]
fn classify_malformed_line_gets_error_in_place_and_exit_2() {
    let input = "{\"text\":\"read ECONNRESET\"}\nnot json\n{\"crm\":\"hubspot\"}\n\n{\"text\":\"x\",\"http_status\":401}\n";
    let out = syncward()
        .arg("classify")
        .write_stdin(input)
        .assert()
        .code(2);
    let lines = json_lines(&out.get_output().stdout);
    assert_eq!(
        lines.len(),
        4,
        "blank lines are skipped, bad lines keep their place"
    );
    assert_eq!(lines[0]["layer"], "transport");
    assert!(
        lines[1]["error"]
            .as_str()
            .expect("error")
            .starts_with("stdin:2:")
    );
    assert!(
        lines[2]["error"]
            .as_str()
            .expect("error")
            .contains("missing \"text\"")
    );
    assert_eq!(lines[3]["layer"], "auth");
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("2 input line(s)"), "{err}");
}

#[test]
fn classify_non_utf8_and_huge_lines_do_not_shift_order() {
    let mut input = b"{\"text\":\"UNABLE_TO_LOCK_ROW\"}\n\xff\xfe\n".to_vec();
    input.extend(std::iter::repeat_n(b'a', 2 << 20));
    input.extend_from_slice(b"\n{\"text\":\"INVALID_SESSION_ID\"}\n");
    let out = syncward()
        .arg("classify")
        .write_stdin(input)
        .assert()
        .code(2);
    let lines = json_lines(&out.get_output().stdout);
    assert_eq!(lines.len(), 4);
    assert!(lines[1]["error"].as_str().expect("e").contains("UTF-8"));
    assert!(
        lines[2]["error"]
            .as_str()
            .expect("e")
            .contains("longer than")
    );
    assert_eq!(lines[3]["layer"], "auth");
}

#[test]
fn classify_text_explains_in_plain_language() {
    let out = syncward()
        .args([
            "classify",
            "--text",
            "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",
        ])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("the data does not fit the CRM's fields"),
        "{text}"
    );
    assert!(text.contains("Fields:       LastName"), "{text}");
    assert!(text.contains("will not help"), "{text}");
    assert!(!text.contains("\x1b["), "no colour when not on a terminal");

    let out = syncward()
        .args([
            "classify",
            "--text",
            "Internal error",
            "--http-status",
            "503",
            "--format",
            "json",
        ])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["layer"], "transport");
    assert_eq!(v["transient"], true);

    syncward()
        .args(["classify", "--text", "x", "--crm", "notacrm"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown CRM 'notacrm'"));
}

#[test]
fn user_rules_file_extends_the_knowledge_base() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("acme.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"acme.freeze\"\nkeywords = [\"ACME freeze window\"]\nlayer = \"workflow\"\ntitle = \"The ACME freeze window is on\"\nfix = \"Wait for the window to close.\"\n",
    )
    .expect("write");
    let out = syncward()
        .arg("--rules")
        .arg(&rules)
        .args([
            "classify",
            "--text",
            "blocked: ACME freeze window",
            "--format",
            "json",
        ])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["rule"], "acme.freeze");
    assert_eq!(v["advice"], "Wait for the window to close.");

    let list = syncward()
        .arg("--rules")
        .arg(&rules)
        .args(["rules", "list"])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&list.get_output().stdout).contains("acme.freeze"));

    std::fs::write(&rules, "[[rule]]\nid = 1\n").expect("write");
    syncward()
        .arg("--rules")
        .arg(&rules)
        .args(["classify", "--text", "x"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("acme.toml"));
    syncward()
        .args(["--rules", "/nonexistent/rules.toml", "rules", "list"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "cannot read rules file /nonexistent/rules.toml",
        ));
}

#[test]
fn rules_list_json_is_one_object_per_rule() {
    let out = syncward()
        .args(["rules", "list", "--format", "json"])
        .assert()
        .success();
    let lines = json_lines(&out.get_output().stdout);
    assert!(
        lines.len() > 60,
        "the built-in knowledge base covers many rules"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["id"].is_string() && l["layer"].is_string())
    );
}

// ---- diagnose ---------------------------------------------------------------

fn diagnose_json(args: &[&str], code: i32) -> Value {
    let out = syncward()
        .arg("diagnose")
        .args(args)
        .args(["--format", "json"])
        .current_dir(repo_file(""))
        .assert()
        .code(code);
    serde_json::from_slice(&out.get_output().stdout)
        .expect("diagnose --format json prints one JSON object")
}

#[test]
fn diagnose_json_contract_keys() {
    let d = diagnose_json(
        &[
            "examples/logs/picklist-failedResults.csv",
            "examples/logs/picklist-successfulResults.csv",
        ],
        1,
    );
    for key in [
        "events",
        "primary_layer",
        "layers",
        "pattern",
        "blast_radius",
        "groups",
        "stop_rules",
        "decision",
    ] {
        assert!(d.get(key).is_some(), "missing {key}");
    }
    for key in ["total", "ok", "failed", "malformed"] {
        assert!(d["events"][key].is_u64(), "events.{key}");
    }
    assert_eq!(d["events"]["total"], 7);
    assert_eq!(d["primary_layer"], "mapping");
    for layer in [
        "auth",
        "mapping",
        "transport",
        "workflow",
        "dedupe",
        "record",
        "unknown",
    ] {
        assert!(d["layers"][layer].is_u64(), "layers.{layer}");
    }
    assert_eq!(d["blast_radius"]["scope"], "single_field");
    for key in ["records_failed", "records_seen", "objects_seen", "runs"] {
        assert!(d["blast_radius"][key].is_u64(), "blast_radius.{key}");
    }
    let g = &d["groups"][0];
    for key in [
        "signature",
        "layer",
        "code",
        "fields",
        "objects",
        "count",
        "records",
        "first_seen",
        "last_seen",
        "transient",
        "fix",
    ] {
        assert!(g.get(key).is_some(), "groups[0].{key}");
    }
    assert_eq!(g["fields"], serde_json::json!(["LeadSource"]));
    assert_eq!(g["count"], 3);
    assert!(g["records"].as_array().expect("records").len() <= 5);
    let rules = d["stop_rules"].as_array().expect("stop_rules");
    assert_eq!(rules.len(), 10);
    for r in rules {
        assert!(r["id"].is_string() && r["tripped"].is_boolean() && r["evidence"].is_array());
    }
    for key in ["action", "reason", "evidence", "then"] {
        assert!(d["decision"].get(key).is_some(), "decision.{key}");
    }
    assert_eq!(d["decision"]["action"], "remap");
}

#[test]
fn diagnose_each_example_log_gets_the_seeds_move() {
    for (file, layer, pattern, action) in [
        (
            "examples/logs/auth-expired.jsonl",
            "auth",
            "all_objects_fail",
            "reconnect",
        ),
        (
            "examples/logs/auth-reconnect-failed.jsonl",
            "auth",
            "all_objects_fail",
            "escalate",
        ),
        (
            "examples/logs/hubspot-token.har",
            "auth",
            "all_objects_fail",
            "escalate",
        ),
        (
            "examples/logs/dataloader-error.csv",
            "mapping",
            "field_across_records",
            "remap",
        ),
        (
            "examples/logs/connector.log",
            "mapping",
            "field_across_records",
            "manual_fallback",
        ),
        (
            "examples/logs/rate-limited-http.jsonl",
            "transport",
            "starts_then_times_out",
            "reduce_batch",
        ),
        (
            "examples/logs/owner-rewritten.jsonl",
            "workflow",
            "lands_then_changes",
            "manual_fallback",
        ),
        (
            "examples/logs/duplicates-after-rerun.jsonl",
            "dedupe",
            "duplicates_after_reruns",
            "reconcile_keys",
        ),
        (
            "examples/logs/one-bad-record.csv",
            "record",
            "isolated_record",
            "fix_record",
        ),
    ] {
        let d = diagnose_json(&[file], 1);
        assert_eq!(d["primary_layer"], layer, "{file}");
        assert_eq!(d["pattern"], pattern, "{file}");
        assert_eq!(d["decision"]["action"], action, "{file}");
        assert!(
            d["decision"]["evidence"]
                .as_array()
                .is_some_and(|e| !e.is_empty()),
            "{file} cites evidence"
        );
    }
}

#[test]
fn diagnose_healthy_log_exits_0() {
    let d = diagnose_json(&["examples/logs/picklist-successfulResults.csv"], 0);
    assert_eq!(d["decision"]["action"], "none");
    assert_eq!(d["pattern"], "none");
    assert!(d["primary_layer"].is_null());
}

/// Bulk API 2.0 `unprocessedrecords`: nothing failed, but those records
/// never reached the CRM, and the reader of the text is told so.
#[test]
fn diagnose_unprocessed_records_are_not_called_healthy() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("unprocessedrecords.csv");
    std::fs::write(
        &file,
        "Email,LastName,Company\ndee@acme.test,Dee,Acme\neve@eon.test,Eve,Eon\n",
    )
    .expect("write");
    let out = syncward().arg("diagnose").arg(&file).assert().code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout);
    assert!(text.contains("2 not processed"), "{text}");
    assert!(text.contains("2 records were never processed"), "{text}");
    assert!(!text.contains("looks healthy"), "{text}");
    let out = syncward()
        .args(["diagnose", "--format", "json"])
        .arg(&file)
        .assert()
        .code(0);
    let d: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(d["events"]["skipped"], 2);
}

#[test]
fn diagnose_reads_stdin_and_gzip() {
    let log = std::fs::read(repo_file("examples/logs/auth-expired.jsonl")).expect("example");
    let out = syncward()
        .args(["diagnose", "--format", "json"])
        .write_stdin(log.clone())
        .assert()
        .code(1);
    let d: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(d["decision"]["action"], "reconnect");
    assert_eq!(d["groups"][0]["evidence"][0], "stdin:1");

    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("auth.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).expect("create"),
        flate2::Compression::fast(),
    );
    std::io::Write::write_all(&mut enc, &log).expect("write");
    enc.finish().expect("finish");
    let d = diagnose_json(&[gz.to_str().expect("utf8 path")], 1);
    assert_eq!(d["events"]["total"], 5);
}

#[test]
fn diagnose_bad_lines_are_reported_with_file_and_line_and_the_rest_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("mixed.jsonl");
    let mut data = b"{\"status\":\"ok\",\"record\":\"a\"}\n{\"status\":\"failed\",\"record\":\"b\",\"code\":\"INVALID_SESSION_ID\"\n".to_vec();
    data.extend_from_slice(b"\xff\xfe not utf8\n");
    data.extend(std::iter::repeat_n(b'x', 2 << 20));
    data.extend_from_slice(b"\n{\"status\":\"failed\",\"record\":\"c\",\"message\":\"Session expired or invalid\",\"code\":\"INVALID_SESSION_ID\"}\n");
    std::fs::write(&f, data).expect("write");
    let d = diagnose_json(&[f.to_str().expect("utf8")], 1);
    assert_eq!(d["events"]["total"], 2);
    assert_eq!(d["events"]["malformed"], 3);
    let problems: Vec<&str> = d["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("mixed.jsonl:2:") && p.contains("not a JSON event")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("mixed.jsonl:3:") && p.contains("UTF-8")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("mixed.jsonl:4:") && p.contains("longer than")),
        "{problems:?}"
    );
}

#[test]
fn diagnose_unreadable_file_exits_2_and_the_others_still_count() {
    let out = syncward()
        .current_dir(repo_file(""))
        .args([
            "diagnose",
            "--format",
            "json",
            "examples/logs/auth-expired.jsonl",
            "no/such/file.csv",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no/such/file.csv: cannot open"));
    let d: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(d["events"]["total"], 5);
    assert_eq!(d["decision"]["action"], "reconnect");

    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").expect("write");
    let out = syncward().args(["diagnose"]).arg(&empty).assert().code(2);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("the file is empty"), "{text}");
}

#[test]
fn diagnose_context_flags_and_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        repo_file("examples/logs/dataloader-error.csv"),
        dir.path().join("errors.csv"),
    )
    .expect("copy");
    std::fs::write(
        dir.path().join("syncward.toml"),
        "[context]\nowner = \"Dana\"\ndirection = \"bi\"\n",
    )
    .expect("write");
    let out = syncward()
        .current_dir(dir.path())
        .args(["diagnose", "errors.csv", "--format", "json"])
        .assert()
        .code(1);
    let d: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(d["context"]["owner"], "Dana");
    let then = d["decision"]["then"].to_string();
    assert!(
        then.contains("Dana owns this repair") && then.contains("one direction first"),
        "{then}"
    );
    // A flag overrides the file.
    let out = syncward()
        .current_dir(dir.path())
        .args([
            "diagnose",
            "errors.csv",
            "--format",
            "json",
            "--owner",
            "Sam",
            "--minutes-spent",
            "20",
        ])
        .assert()
        .code(1);
    let d: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(d["context"]["owner"], "Sam");
    assert_eq!(d["decision"]["action"], "escalate");
    // Over an hour on these few records: the day goes manual.
    let out = syncward()
        .current_dir(dir.path())
        .args(["diagnose", "errors.csv", "--format", "json"])
        .args(["--minutes-spent", "90"])
        .assert()
        .code(1);
    let d: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(d["decision"]["action"], "manual_fallback");
    syncward()
        .current_dir(dir.path())
        .args(["diagnose", "errors.csv", "--direction", "sideways"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown direction 'sideways'"));
    std::fs::write(dir.path().join("syncward.toml"), "[context]\nowner = 3\n").expect("write");
    syncward()
        .current_dir(dir.path())
        .args(["diagnose", "errors.csv"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "syncward.toml is not a valid syncward.toml",
        ));
}

#[test]
fn diagnose_text_and_markdown_snapshots() {
    let text = syncward()
        .current_dir(repo_file(""))
        .args([
            "diagnose",
            "examples/logs/picklist-failedResults.csv",
            "examples/logs/picklist-successfulResults.csv",
        ])
        .assert()
        .code(1);
    insta::assert_snapshot!(
        "diagnose_text_picklist",
        String::from_utf8_lossy(&text.get_output().stdout)
    );
    let md = syncward()
        .current_dir(repo_file(""))
        .args([
            "diagnose",
            "examples/logs/owner-rewritten.jsonl",
            "--format",
            "markdown",
            "--owner",
            "Dana (ops)",
        ])
        .assert()
        .code(1);
    insta::assert_snapshot!(
        "diagnose_markdown_workflow",
        String::from_utf8_lossy(&md.get_output().stdout)
    );
}

// ---- check and schema ---------------------------------------------------------

/// A running `syncward sandbox`, stopped when dropped.
struct SandboxProc {
    child: std::process::Child,
    url: String,
    _stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl SandboxProc {
    fn start(scenario: &str) -> SandboxProc {
        use std::io::BufRead;
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("syncward"))
            .args(["sandbox", "--addr", "127.0.0.1:0", "--scenario", scenario])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("sandbox starts");
        let mut first = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut first).expect("first line");
        let url = first
            .trim()
            .strip_prefix("sandbox listening on ")
            .expect("announces its URL")
            .to_owned();
        SandboxProc {
            child,
            url,
            _stdout: stdout,
        }
    }
}

impl Drop for SandboxProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn check_cmd() -> Command {
    let mut c = syncward();
    c.current_dir(repo_file("")).args([
        "check",
        "--mapping",
        "examples/check/lead-mapping.toml",
        "--source",
        "examples/check/web-form-leads.csv",
    ]);
    c
}

#[test]
fn check_json_contract_and_exit_code() {
    let out = check_cmd()
        .args([
            "--schema",
            "examples/check/lead-describe.json",
            "--format",
            "json",
        ])
        .assert()
        .code(1);
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    for key in ["records", "clean", "with_errors", "by_kind"] {
        assert!(v["summary"].get(key).is_some(), "summary.{key}");
    }
    assert_eq!(v["summary"]["records"], 6);
    assert_eq!(v["summary"]["clean"], 1);
    assert_eq!(v["summary"]["with_errors"], 5);
    assert_eq!(v["summary"]["by_kind"]["state_not_code"], 2);
    let f = &v["findings"][0];
    let mut keys: Vec<&str> = f
        .as_object()
        .expect("finding")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "column", "field", "fix", "kind", "message", "record", "row", "severity", "value"
        ]
    );
    assert_eq!(f["row"], 2, "row is the 1-based data row");
}

#[test]
fn check_fix_and_split_keep_every_row() {
    let dir = tempfile::tempdir().expect("tmp");
    let fixed = dir.path().join("fixed.csv");
    let split = dir.path().join("split");
    check_cmd()
        .args(["--schema", "examples/check/lead-describe.json"])
        .arg("--fix")
        .arg(&fixed)
        .arg("--split")
        .arg(&split)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("Wrote"));
    let fixed_text = std::fs::read_to_string(&fixed).expect("fixed");
    assert_eq!(fixed_text.lines().count(), 7);
    assert!(
        fixed_text.contains(",NY,") && fixed_text.contains("+14155550100"),
        "{fixed_text}"
    );
    let clean = std::fs::read_to_string(split.join("clean.csv")).expect("clean");
    let review = std::fs::read_to_string(split.join("review.csv")).expect("review");
    assert!(
        clean.starts_with("External_Id__c,FirstName,LastName,Company,Email,Phone"),
        "CRM field names: {clean}"
    );
    assert_eq!(
        clean.lines().count() - 1 + review.lines().count() - 1,
        6,
        "nothing dropped"
    );
    assert!(
        review
            .lines()
            .next()
            .is_some_and(|h| h.ends_with(",reason"))
    );
    // The fixed file checks cleaner than the original.
    let out = syncward()
        .current_dir(repo_file(""))
        .args([
            "check",
            "--mapping",
            "examples/check/lead-mapping.toml",
            "--schema",
            "examples/check/lead-describe.json",
            "--format",
            "json",
            "--source",
        ])
        .arg(&fixed)
        .assert()
        .code(1);
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert!(v["summary"]["by_kind"].get("state_not_code").is_none());
}

#[test]
fn check_clean_rows_exit_0_and_bad_inputs_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("ok.csv");
    std::fs::write(
        &src,
        "First name,Last name,Company,Email\nAna,Ruiz,Acme,ana@acme.io\n",
    )
    .expect("write");
    let map = dir.path().join("m.toml");
    std::fs::write(&map, "crm = \"salesforce\"\nobject = \"Lead\"\n[key]\nsource = \"Email\"\ncrm = \"External_Id__c\"\n[fields]\n\"Last name\" = \"LastName\"\n\"Company\" = \"Company\"\n\"Email\" = \"Email\"\n").expect("write");
    syncward()
        .current_dir(repo_file(""))
        .args([
            "check",
            "--schema",
            "examples/check/lead-describe.json",
            "--mapping",
        ])
        .arg(&map)
        .arg("--source")
        .arg(&src)
        .assert()
        .success()
        .stdout(predicates::str::contains("Nothing here would bounce"));
    std::fs::write(&map, "crm = \"salesforce\"\nobject = \"Lead\"\nwrong = 1\n[key]\nsource = \"Email\"\ncrm = \"Email\"\n").expect("write");
    syncward()
        .current_dir(repo_file(""))
        .args([
            "check",
            "--schema",
            "examples/check/lead-describe.json",
            "--mapping",
        ])
        .arg(&map)
        .arg("--source")
        .arg(&src)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("line 3").and(predicates::str::contains("wrong")));
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").expect("write");
    syncward()
        .current_dir(repo_file(""))
        .args([
            "check",
            "--mapping",
            "examples/check/lead-mapping.toml",
            "--schema",
            "examples/check/lead-describe.json",
            "--source",
        ])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("empty"));
}

#[test]
fn check_live_against_the_sandbox_and_schema_snapshot_diff() {
    let sb = SandboxProc::start("healthy");
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("contacts.csv");
    std::fs::write(
        &src,
        "Email,First,Stage,State\nana@acme.io,Ana,lead,California\nli@acme.io,Li,Prospect,NY\n",
    )
    .expect("write");
    let map = dir.path().join("m.toml");
    std::fs::write(&map, "crm = \"hubspot\"\nobject = \"contacts\"\nbatch_size = 250\n[key]\nsource = \"Email\"\ncrm = \"email\"\n[fields]\n\"First\" = \"firstname\"\n\"Stage\" = \"lifecyclestage\"\n\"State\" = { crm = \"state\", transform = \"us_state_code\" }\n").expect("write");
    let out = syncward()
        .env("SYNCWARD_TOKEN", "sandbox-token")
        .args([
            "check",
            "--format",
            "json",
            "--crm-url",
            &sb.url,
            "--mapping",
        ])
        .arg(&map)
        .arg("--source")
        .arg(&src)
        .assert()
        .code(1);
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["summary"]["by_kind"]["batch_too_large"], 1);
    assert_eq!(v["summary"]["by_kind"]["picklist_invalid"], 1);
    assert!(
        v["summary"]["by_kind"].get("scope_missing").is_none(),
        "the sandbox token has the scopes"
    );
    // Without a token: a clear error, no secret printed.
    syncward()
        .env_remove("SYNCWARD_TOKEN")
        .args(["check", "--crm-url", &sb.url, "--mapping"])
        .arg(&map)
        .arg("--source")
        .arg(&src)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("SYNCWARD_TOKEN"));
    let out = syncward()
        .env("SYNCWARD_TOKEN", "not-the-token-xyz")
        .args(["check", "--crm-url", &sb.url, "--mapping"])
        .arg(&map)
        .arg("--source")
        .arg(&src)
        .assert()
        .code(2);
    assert!(!String::from_utf8_lossy(&out.get_output().stderr).contains("not-the-token-xyz"));

    let snap = dir.path().join("lead.json");
    syncward()
        .env("SYNCWARD_TOKEN", "sandbox-token")
        .args([
            "schema",
            "snapshot",
            "--crm",
            "salesforce",
            "--object",
            "Lead",
            "--crm-url",
            &sb.url,
            "-o",
        ])
        .arg(&snap)
        .assert()
        .success();
    syncward()
        .args(["schema", "diff"])
        .arg(&snap)
        .arg(&snap)
        .assert()
        .success()
        .stdout(predicates::str::contains("No drift"));
    let out = syncward()
        .current_dir(repo_file(""))
        .args([
            "schema",
            "diff",
            "examples/check/lead-describe-last-month.json",
            "examples/check/lead-describe.json",
            "--format",
            "json",
        ])
        .assert()
        .code(1);
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["breaks_mapping"], true);
    assert!(
        v["drift"]
            .as_array()
            .expect("drift")
            .iter()
            .any(|d| d["change"] == "became_required" && d["field"] == "Company")
    );
}

// ---- sync, queue and the demo ---------------------------------------------------

#[test]
fn demo_tells_the_story_and_exits_0() {
    let out = syncward().arg("demo").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    for words in [
        "next move",
        "test record",
        "review queue",
        "no duplicates",
        "nothing lost",
    ] {
        assert!(text.contains(words), "the demo says '{words}':\n{text}");
    }
}

/// `syncward sync` of the demo mapping into the sandbox at `url`, from the
/// repository's root with the sandbox's token; the caller adds the rest.
fn demo_sync(url: &str, source: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = syncward();
    c.current_dir(repo_file(""))
        .env("SYNCWARD_TOKEN", "sandbox-token")
        .args([
            "sync",
            "--mapping",
            "examples/demo/mapping.toml",
            "--crm-url",
            url,
        ])
        .arg("--source")
        .arg(source);
    c
}

/// A sync of the demo leads (2 held back by preflight) into the sandbox,
/// then the review queue worked through with `queue list|show|release|
/// export|drop`, all on the state at `db` (a SQLite file or a PostgreSQL
/// URL). The sandbox is handed back for more.
fn sync_and_work_the_queue(db: &std::ffi::OsStr, dir: &std::path::Path) -> SandboxProc {
    let sb = SandboxProc::start("healthy");
    let out = demo_sync(&sb.url, "examples/demo/leads.csv")
        .args(["--format", "json", "--db"])
        .arg(db)
        .assert()
        .code(1);
    let r: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(
        r["held_by_preflight"], 2,
        "one bad picklist value, one bad email"
    );
    assert_eq!(r["confirmed"], 148);
    let list = syncward()
        .args(["queue", "list", "--format", "json", "--db"])
        .arg(db)
        .assert()
        .success();
    let items = json_lines(&list.get_output().stdout);
    assert_eq!(items.len(), 2);
    for key in ["record", "layer", "reason", "run"] {
        assert!(items[0].get(key).is_some(), "queue item has {key}");
    }
    let first = items[0]["id"].as_i64().expect("id");
    let second = items[1]["id"].as_i64().expect("id");
    syncward()
        .args(["queue", "show", &first.to_string(), "--db"])
        .arg(db)
        .assert()
        .success()
        .stdout(predicates::str::contains("payload"));
    syncward()
        .args(["queue", "release", &first.to_string(), "--db"])
        .arg(db)
        .assert()
        .success();
    let export = dir.join("by-hand.csv");
    syncward()
        .args(["queue", "export", "-o"])
        .arg(&export)
        .arg("--db")
        .arg(db)
        .assert()
        .success();
    let csv = std::fs::read_to_string(&export).expect("export");
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.contains("LastName") && h.ends_with("syncward_reason")),
        "{csv}"
    );
    assert_eq!(
        csv.lines().count(),
        1 + 1,
        "the released item is no longer open"
    );
    syncward()
        .args(["queue", "drop", &second.to_string(), "--db"])
        .arg(db)
        .assert()
        .success();
    let list = syncward()
        .args(["queue", "list", "--format", "json", "--db"])
        .arg(db)
        .assert()
        .success();
    assert!(json_lines(&list.get_output().stdout).is_empty());
    syncward()
        .args(["queue", "show", "99999", "--db"])
        .arg(db)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no review-queue item 99999"));
    sb
}

#[test]
fn sync_then_queue_list_release_drop_export() {
    let dir = tempfile::tempdir().expect("tmp");
    let sb = sync_and_work_the_queue(dir.path().join("state.db").as_os_str(), dir.path());
    // A dry run writes nothing.
    let out = demo_sync(&sb.url, "examples/demo/leads-fixed.csv")
        .args(["--dry-run", "--db"])
        .arg(dir.path().join("dry.db"))
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("Dry run"));
    // The released record, fixed at its source, lands with the next run:
    // its queue item says so.
    let leads = std::fs::read_to_string(repo_file("examples/demo/leads.csv")).expect("leads");
    let fixed = dir.path().join("leads.csv");
    std::fs::write(&fixed, leads.replace(",Billboard,", ",Webinar,")).expect("write");
    demo_sync(&sb.url, &fixed)
        .arg("--db")
        .arg(dir.path().join("state.db"))
        .assert()
        .code(1);
    let list = syncward()
        .args(["queue", "list", "--all", "--format", "json", "--db"])
        .arg(dir.path().join("state.db"))
        .assert()
        .success();
    let items = json_lines(&list.get_output().stdout);
    let raj = items
        .iter()
        .find(|i| i["record"] == "raj.lee37@example.com")
        .expect("the released item");
    assert_eq!(raj["status"], "synced", "{items:?}");
}

/// The same story with the state in PostgreSQL, where a team shares one
/// journal and one review queue; `$SYNCWARD_DB` names it as well as `--db`.
#[test]
fn a_team_shares_the_journal_and_queue_in_postgresql() {
    let server = syncward_store::testing::TestServer::start().expect("PostgreSQL for the test");
    let url = server.database("team").expect("a database");
    let dir = tempfile::tempdir().expect("tmp");
    let _sb = sync_and_work_the_queue(std::ffi::OsStr::new(&url), dir.path());
    let list = syncward()
        .env("SYNCWARD_DB", &url)
        .args(["queue", "list", "--all", "--format", "json"])
        .assert()
        .success();
    let statuses: Vec<Value> = json_lines(&list.get_output().stdout)
        .iter()
        .map(|i| i["status"].clone())
        .collect();
    assert_eq!(statuses, ["released", "dropped"]);
    // A server it cannot reach is a plain error, exit 2, password hidden.
    syncward()
        .args(["queue", "list", "--db"])
        .arg("postgres://ops:hunter2@/sync?host=/nonexistent-syncward")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("ops:**REDACTED**@"))
        .stderr(predicates::str::contains("hunter2").not());
}

/// A source exported as UTF-16 (Excel's "Unicode text", PowerShell 5) or
/// with a byte order mark is checked exactly like the UTF-8 file.
#[test]
fn check_reads_utf16_and_marked_sources_like_utf8() {
    let run = |source: &str| {
        let out = syncward()
            .current_dir(repo_file(""))
            .args(["check", "--mapping", "examples/check/lead-mapping.toml"])
            .args(["--schema", "examples/check/lead-describe.json"])
            .args(["--format", "json", "--source", source])
            .assert()
            .code(1);
        let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
        (v["summary"].clone(), v["findings"].clone())
    };
    let text =
        std::fs::read_to_string(repo_file("examples/check/web-form-leads.csv")).expect("example");
    let dir = tempfile::tempdir().expect("tempdir");
    let utf16 = dir.path().join("leads-utf16.csv");
    let mut bytes = b"\xFF\xFE".to_vec();
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(&utf16, bytes).expect("write");
    let marked = dir.path().join("leads-bom.csv");
    std::fs::write(&marked, format!("\u{feff}{text}")).expect("write");
    let want = run("examples/check/web-form-leads.csv");
    assert_eq!(run(utf16.to_str().expect("utf8 path")), want);
    assert_eq!(run(marked.to_str().expect("utf8 path")), want);
}

/// An error reads once: the cause a library error already names is not
/// printed again after it.
#[test]
fn errors_name_their_cause_once() {
    let out = syncward()
        .current_dir(repo_file(""))
        .args(["check", "--mapping", "examples/check/lead-mapping.toml"])
        .args(["--schema", "examples/check/lead-describe.json"])
        .args(["--source", "no-such-export.csv"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.starts_with("syncward: error: no-such-export.csv: cannot open: "),
        "{err}"
    );
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}
