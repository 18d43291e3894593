//! `hotline campaign import`: the per-line report of a campaign list, as an operator runs it.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

fn hotline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hotline"))
}

fn import(file: &Path, extra: &[&str]) -> Output {
    hotline()
        .args(["campaign", "import"])
        .arg(file)
        .args(extra)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The seed campaign's shape: 325 customers, 200 of them without a phone number.
fn seed_list(dir: &Path) -> std::path::PathBuf {
    let mut csv = String::from("\u{feff}电话,姓名,city,priority\r\n");
    for i in 0..325u32 {
        if i % 13 < 5 {
            csv.push_str(&format!(
                "138-{:04}-{:04},客户{i},Hangzhou,{}\r\n",
                i,
                2000 + i,
                i % 3
            ));
        } else {
            csv.push_str(&format!(",客户{i},Hangzhou,1\r\n"));
        }
    }
    let path = dir.join("seed.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn the_seed_list_reports_200_lines_without_a_number_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let path = seed_list(dir.path());
    let out = import(&path, &["--country", "CN"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(
        text.contains("325 lines, 125 accepted, 200 rejected"),
        "{text}"
    );
    assert!(text.contains("missing number       200"), "{text}");
    // The 6th data line (line 7, the header being line 1) has no number.
    assert!(text.contains("\n      7  missing number\n"), "{text}");
    assert!(text.contains("number \"电话\", name \"姓名\""), "{text}");
}

#[test]
fn json_gives_one_verdict_per_line_and_output_the_normalized_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = seed_list(dir.path());
    let records = dir.path().join("accepted.jsonl");
    let out = import(
        &path,
        &[
            "--country",
            "CN",
            "--json",
            "--output",
            records.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = report["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 325);
    assert_eq!(lines[0]["line"], 2);
    assert_eq!(lines[0]["verdict"], "ok");
    assert_eq!(lines[0]["zone"], "country");
    assert_eq!(lines[5]["line"], 7);
    assert_eq!(lines[5]["verdict"], "rejected");
    assert_eq!(lines[5]["reason"], "missing_number");
    assert_eq!(lines[5]["message"], "missing number");
    assert_eq!(report["summary"]["accepted"], 125);
    assert_eq!(report["summary"]["by_reason"]["missing_number"], 200);

    let written = std::fs::read_to_string(&records).unwrap();
    let records: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 125);
    assert_eq!(records[0]["line"], 2);
    assert_eq!(records[0]["number"], "+8613800002000");
    assert_eq!(records[0]["name"], "客户0");
    assert_eq!(records[0]["time_zone"], "Asia/Shanghai");
    assert_eq!(records[0]["attributes"]["city"], "Hangzhou");
    assert_eq!(records[1]["priority"], 1);
}

#[test]
fn a_messy_list_reports_invalid_numbers_duplicates_and_bad_cells() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messy.csv");
    std::fs::write(
        &path,
        "Phone;Name;TZ;Due\n\
         (212) 555-0100;Jones;;24h\n\
         212.555.0100;Jones again;;\n\
         555-0100;Short;;\n\
         (212) 555-0199 ext. 12;Office;;\n\
         +44 20 7946 0000;Smith;Europe/Paris;tomorrow\n\
         +86 138 0013 8000;Li;;2026-12-08 18:00\n",
    )
    .unwrap();
    let out = import(&path, &["--country", "US"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for expected in [
        "6 lines, 2 accepted, 4 rejected",
        "delimiter ';'",
        "      3  duplicate of line 2\n",
        "      4  invalid number: not a NANP number: too short: 7 digits, a NANP number has at least 10\n",
        "      5  invalid number: has an extension, which cannot be dialed\n",
        "      6  bad due: \"tomorrow\" is not a due window",
        "1 line accepted without a time zone",
    ] {
        assert!(text.contains(expected), "{expected:?} not in\n{text}");
    }
}

#[test]
fn files_that_are_not_lists_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    let out = import(&missing, &["--country", "CN"]);
    assert_eq!(out.status.code(), Some(2));

    let no_number = dir.path().join("names.csv");
    std::fs::write(&no_number, "name,city\nLi,Beijing\n").unwrap();
    let out = import(&no_number, &["--country", "CN"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no number column"));

    let headless = dir.path().join("numbers.csv");
    std::fs::write(&headless, "13800138000,Li\n13900139000,Wang\n").unwrap();
    let out = import(&headless, &["--country", "CN"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("add a header line"));

    // 电话 written in GBK by a legacy export.
    let gbk = dir.path().join("gbk.csv");
    std::fs::write(&gbk, b"\xb5\xe7\xbb\xb0\n13800138000\n").unwrap();
    let out = import(&gbk, &["--country", "CN"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("save the list as CSV UTF-8"));

    let binary = dir.path().join("photo.csv");
    std::fs::write(&binary, b"phone\n\x00\x01\x02").unwrap();
    assert_eq!(import(&binary, &[]).status.code(), Some(2));
}

#[test]
fn without_a_country_national_numbers_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.csv");
    std::fs::write(&path, "number\n13800138000\n+8613800138001\n").unwrap();
    let out = import(&path, &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("2 lines, 1 accepted, 1 rejected"), "{text}");
    assert!(
        text.contains("invalid number: no country code and no default country"),
        "{text}"
    );
}
