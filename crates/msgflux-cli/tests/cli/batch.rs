//! `msgflux batch`: jobs files, the manifest, resuming, failures, Ctrl-C.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use msgflux_emulators::openai::EMULATOR_KEY;

use crate::common::{code, file_names, json_lines, msgflux, openai_emulator, stderr, stdout, write_mask, write_photo};

/// A jobs directory with `img/a.png`, `img/b.png`, `img/c.png` (32x24) and `img/mask.png`.
pub fn job_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("img")).expect("mkdir");
    for name in ["a", "b", "c"] {
        write_photo(&dir.path().join(format!("img/{name}.png")), 32, 24);
    }
    write_mask(&dir.path().join("img/mask.png"), 32, 24, (8, 8, 8, 6));
    dir
}

pub fn write_jobs(dir: &Path, name: &str, lines: &[&str]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write jobs");
    path
}

fn job(id: &str, image: &str) -> String {
    format!(r#"{{"id": "{id}", "prompt": "remove the spot", "image": "img/{image}.png", "mask": "img/mask.png"}}"#)
}

pub fn manifest(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("manifest.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("manifest line is JSON"))
        .collect()
}

fn local_batch(jobs: &Path, out: &Path) -> assert_cmd::Command {
    let mut cmd = msgflux();
    cmd.arg("batch")
        .arg(jobs)
        .args(["--model", "local/telea", "--out"])
        .arg(out);
    cmd
}

#[test]
fn a_batch_runs_every_job_saves_results_named_after_ids_and_records_them() {
    let dir = job_dir();
    let (a, b, c) = (job("a", "a"), job("b", "b"), job("c", "c"));
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[&a, &b, &c]);
    let out = dir.path().join("out");
    let output = local_batch(&jobs, &out).output().expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        file_names(&out),
        [".msgflux", "a.png", "b.png", "c.png", "manifest.jsonl"]
    );
    let records = manifest(&out);
    assert_eq!(records.len(), 3);
    assert!(
        records
            .iter()
            .all(|r| r["status"] == "succeeded" && r["model"] == "local/telea")
    );
    assert!(
        stdout(&output).contains("batch done: 3 succeeded, 0 failed, 0 skipped (done earlier), 0 not run"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn relative_paths_are_taken_against_the_jobs_file_not_the_working_directory() {
    let dir = job_dir();
    let a = job("a", "a");
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[&a]);
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let output = local_batch(&jobs, &out)
        .current_dir(elsewhere.path())
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(out.join("a.png").is_file());
}

#[test]
fn a_csv_jobs_file_works_like_jsonl() {
    let dir = job_dir();
    let jobs = write_jobs(
        dir.path(),
        "jobs.csv",
        &[
            "id,prompt,image,mask",
            "first,remove it,img/a.png,img/mask.png",
            "second,remove it,img/b.png,img/mask.png",
        ],
    );
    let out = dir.path().join("out");
    let output = local_batch(&jobs, &out).output().expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        file_names(&out),
        [".msgflux", "first.png", "manifest.jsonl", "second.png"]
    );
    let first = manifest(&out)
        .into_iter()
        .find(|r| r["id"] == "first")
        .expect("record of first");
    assert_eq!(first["line"], 2);
}

#[test]
fn a_failing_job_is_recorded_and_the_batch_goes_on_then_exits_4() {
    let dir = job_dir();
    let (a, c) = (job("a", "a"), job("c", "c"));
    let missing = r#"{"prompt": "remove", "image": "img/missing.png", "mask": "img/mask.png"}"#;
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[&a, missing, &c]);
    let out = dir.path().join("out");
    let output = local_batch(&jobs, &out).output().expect("run");
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("job line-2 (line 2) failed: invalid image: file not found"),
        "{}",
        stderr(&output)
    );
    assert_eq!(file_names(&out), [".msgflux", "a.png", "c.png", "manifest.jsonl"]);
    let failed = manifest(&out)
        .into_iter()
        .find(|r| r["id"] == "line-2")
        .expect("failed record");
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["kind"], "invalid_input");
    assert!(stdout(&output).contains("2 succeeded, 1 failed"), "{}", stdout(&output));
}

#[test]
fn a_malformed_line_fails_only_that_job() {
    let dir = job_dir();
    let a = job("a", "a");
    let jobs = write_jobs(
        dir.path(),
        "jobs.jsonl",
        &[r#"{"prompt": "x", "imgae": "img/a.png"}"#, &a],
    );
    let out = dir.path().join("out");
    let output = local_batch(&jobs, &out).output().expect("run");
    assert_eq!(code(&output), 4);
    assert!(stderr(&output).contains("unknown field `imgae`"), "{}", stderr(&output));
    assert!(out.join("a.png").is_file());
}

#[test]
fn a_rerun_skips_jobs_the_manifest_records_as_done() {
    let dir = job_dir();
    let (a, b) = (job("a", "a"), job("b", "b"));
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[&a, &b]);
    let out = dir.path().join("out");
    // An earlier run finished `a` and was then interrupted.
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("a.png"), b"from the earlier run").expect("write");
    std::fs::write(
        out.join("manifest.jsonl"),
        "{\"id\":\"a\",\"line\":1,\"status\":\"succeeded\",\"outputs\":[\"a.png\"],\"model\":\"local/telea\"}\n",
    )
    .expect("write manifest");
    let output = local_batch(&jobs, &out).output().expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(std::fs::read(out.join("a.png")).expect("a"), b"from the earlier run");
    assert!(out.join("b.png").is_file());
    assert!(
        stdout(&output).contains("1 succeeded, 0 failed, 1 skipped"),
        "{}",
        stdout(&output)
    );
    assert_eq!(manifest(&out).len(), 2);
}

#[test]
fn a_rerun_runs_failed_jobs_again() {
    let dir = job_dir();
    let (a, d) = (job("a", "a"), job("d", "d"));
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[&a, &d]);
    let out = dir.path().join("out");
    assert_eq!(code(&local_batch(&jobs, &out).output().expect("first run")), 4);
    write_photo(&dir.path().join("img/d.png"), 32, 24);
    let output = local_batch(&jobs, &out).output().expect("second run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("1 succeeded, 0 failed, 1 skipped"),
        "{}",
        stdout(&output)
    );
    assert!(out.join("d.png").is_file());
}

#[test]
fn a_torn_manifest_line_from_a_killed_run_is_ignored() {
    let dir = job_dir();
    let a = job("a", "a");
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[&a]);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("manifest.jsonl"), "{\"id\":\"a\",\"line\":1,\"sta").expect("write");
    let output = local_batch(&jobs, &out).output().expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("ignoring unreadable line(s) [1]"),
        "{}",
        stderr(&output)
    );
    let text = std::fs::read_to_string(out.join("manifest.jsonl")).expect("manifest");
    let last: serde_json::Value = serde_json::from_str(text.lines().last().expect("a line")).expect("json");
    assert_eq!(last["status"], "succeeded");
}

#[test]
fn json_mode_prints_a_line_per_job_and_a_summary() {
    let dir = job_dir();
    let (a, b) = (job("a", "a"), job("b", "b"));
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[&a, &b]);
    let out = dir.path().join("out");
    let output = local_batch(&jobs, &out).arg("--json").output().expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let events = json_lines(&output);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds, ["start", "job", "job", "summary"]);
    assert_eq!(events[3]["succeeded"], 2);
    assert_eq!(events[3]["interrupted"], false);
}

#[test]
fn duplicate_ids_stop_the_batch_before_anything_runs() {
    let dir = job_dir();
    let (a, a2) = (job("a", "a"), job("a", "b"));
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[&a, &a2]);
    let out = dir.path().join("out");
    let output = local_batch(&jobs, &out).output().expect("run");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("the id `a` is used on lines 1 and 2"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists());
}

#[test]
fn a_jobs_file_of_another_kind_is_refused() {
    let dir = job_dir();
    let jobs = write_jobs(dir.path(), "jobs.txt", &["a.png"]);
    let output = local_batch(&jobs, &dir.path().join("out")).output().expect("run");
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("must end in .jsonl or .csv"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_summary_adds_up_the_cost_the_provider_reports() {
    let emulator = openai_emulator();
    let dir = job_dir();
    let (a, b) = (job("a", "a"), job("b", "b"));
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[&a, &b]);
    let out = dir.path().join("out");
    let output = msgflux()
        .env("MSGFLUX_TEST_OPENAI_KEY", EMULATOR_KEY)
        .arg("batch")
        .arg(&jobs)
        .args(["-m", "openai/gpt-image-1", "--api-key-env", "MSGFLUX_TEST_OPENAI_KEY"])
        .args(["--base-url", &emulator.base_url(), "--json", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let summary = json_lines(&output).pop().expect("summary");
    let per_job: f64 = manifest(&out)
        .iter()
        .map(|r| r["cost_usd"].as_f64().expect("cost"))
        .sum();
    assert!(per_job > 0.0);
    assert!((summary["cost_usd"].as_f64().expect("cost") - per_job).abs() < 1e-9);
}

/// Waits (in short steps, at most 20 s) until the manifest has `records` lines.
fn wait_for_records(out: &Path, records: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let complete_lines = || {
        std::fs::read_to_string(out.join("manifest.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter(|line| serde_json::from_str::<serde_json::Value>(line).is_ok())
            .count()
    };
    while complete_lines() < records {
        assert!(
            Instant::now() < deadline,
            "the manifest never reached {records} records"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly_records_the_job_in_flight_and_a_rerun_does_not_resend_it() {
    let emulator = openai_emulator();
    let dir = job_dir();
    let quick = r#"{"id": "quick", "prompt": "add a hat", "image": "img/a.png"}"#;
    let stuck = r#"{"id": "stuck", "prompt": "hang here", "image": "img/b.png"}"#;
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[quick, stuck]);
    let out = dir.path().join("out");
    let batch = |jobs: &Path| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_msgflux"));
        cmd.env("MSGFLUX_TEST_OPENAI_KEY", EMULATOR_KEY)
            .env_remove("OPENAI_API_KEY")
            .arg("batch")
            .arg(jobs)
            .args(["-m", "openai/gpt-image-1", "--api-key-env", "MSGFLUX_TEST_OPENAI_KEY"])
            .args([
                "--base-url",
                &emulator.base_url(),
                "--concurrency",
                "2",
                "--grace",
                "0.05",
                "--out",
            ])
            .arg(&out)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    };

    let child = batch(&jobs).spawn().expect("spawn");
    wait_for_records(&out, 1);
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let output = child.wait_with_output().expect("wait");
    assert_eq!(code(&output), 130, "{}", stderr(&output));
    assert!(
        stdout(&output).contains(
            "batch interrupted: 1 succeeded, 0 failed, 0 skipped (done earlier), 0 not run, 1 interrupted in flight"
        ),
        "{}",
        stdout(&output)
    );
    // Only whole files: the finished job's result and the manifest, no temporaries.
    assert_eq!(file_names(&out), [".msgflux", "manifest.jsonl", "quick.png"]);
    let records = manifest(&out);
    let statuses: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["id"].as_str().unwrap_or(""), r["status"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(statuses, [("quick", "succeeded"), ("stuck", "interrupted")]);

    // The stuck request reached the provider, which may have billed it: a
    // rerun reports it and sends nothing.
    let unstuck = r#"{"id": "stuck", "prompt": "add a scarf", "image": "img/b.png"}"#;
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[quick, unstuck]);
    let before = emulator.edit_count();
    let output = batch(&jobs).output().expect("rerun");
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("job stuck (line 2) was interrupted")
            && stderr(&output).contains("--resend-interrupted"),
        "{}",
        stderr(&output)
    );
    assert_eq!(emulator.edit_count(), before);

    // Asked explicitly, it is sent once more.
    let output = batch(&jobs).arg("--resend-interrupted").output().expect("resend");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(emulator.edit_count(), before + 1);
    assert_eq!(
        emulator
            .requests()
            .last()
            .and_then(|r| r.text("prompt").map(str::to_string))
            .as_deref(),
        Some("add a scarf")
    );
    assert_eq!(
        file_names(&out),
        [".msgflux", "manifest.jsonl", "quick.png", "stuck.png"]
    );
}
