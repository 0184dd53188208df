//! Drives the real `syncward` executable, as a user or a script would.

use assert_cmd::Command;
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
