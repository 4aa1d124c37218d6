//! `msgflux batch` at scale: shards, claims, workers killed and restarted,
//! `batch status` and `merge`, `--rate`, store URLs and their errors. Every
//! paid request goes to the OpenAI emulator, which counts them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use msgflux_emulators::openai::{EMULATOR_KEY, Emulator};

use crate::batch::{job_dir, manifest, write_jobs};
use crate::common::{code, file_names, json, json_lines, msgflux, openai_emulator, stderr, stdout, write_photo};

/// A worker: `msgflux batch` against the emulator, as a child process.
fn worker(emulator: &Emulator, jobs: &Path, out: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_msgflux"));
    cmd.env("MSGFLUX_TEST_OPENAI_KEY", EMULATOR_KEY)
        .env_remove("OPENAI_API_KEY")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .env_remove("MSGFLUX_SHARD_INDEX")
        .arg("batch")
        .arg(jobs)
        .args(["-m", "openai/gpt-image-1", "--api-key-env", "MSGFLUX_TEST_OPENAI_KEY"])
        .args(["--base-url", &emulator.base_url(), "--concurrency", "1", "--out", out])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// `n` jobs `j00`, `j01`, ... over the photos of `job_dir`.
fn many_jobs(dir: &Path, n: usize, extra: &[String]) -> PathBuf {
    let mut lines: Vec<String> = (0..n)
        .map(|i| {
            let image = ["a", "b", "c"][i % 3];
            format!(r#"{{"id": "j{i:02}", "prompt": "add a hat", "image": "img/{image}.png"}}"#)
        })
        .collect();
    lines.extend(extra.iter().cloned());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    write_jobs(dir, "jobs.jsonl", &refs)
}

/// The job ids the shard `spec` runs, from `--dry-run`.
fn plan(emulator: &Emulator, jobs: &Path, out: &str, spec: &str) -> BTreeSet<String> {
    let output = worker(emulator, jobs, out)
        .args(["--shard", spec, "--dry-run", "--json"])
        .output()
        .expect("dry run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    json_lines(&output)
        .iter()
        .filter(|event| event["event"] == "plan")
        .map(|event| event["id"].as_str().expect("id").to_string())
        .collect()
}

/// Result files (no bookkeeping, no manifest) in a local output folder.
fn results(out: &Path) -> Vec<String> {
    file_names(out)
        .into_iter()
        .filter(|name| name.ends_with(".png"))
        .collect()
}

/// Waits in short steps (at most 20 s) for `ready`.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn finish(child: Child) -> std::process::Output {
    child.wait_with_output().expect("wait")
}

#[test]
fn shard_specs_that_make_no_sense_are_refused_before_anything_is_sent() {
    let emulator = openai_emulator();
    let dir = job_dir();
    let jobs = many_jobs(dir.path(), 3, &[]);
    let out = dir.path().join("out");
    for (spec, rule) in [
        ("5/4", "index 5 must be below the shard count 4"),
        ("a/b", "expected I/N such as 0/4"),
        ("0/0", "the shard count must be 1 to"),
    ] {
        let output = worker(&emulator, &jobs, &out.to_string_lossy())
            .args(["--shard", spec])
            .output()
            .expect("run");
        assert_eq!(code(&output), 2, "{spec}: {}", stderr(&output));
        assert!(stderr(&output).contains(rule), "{spec}: {}", stderr(&output));
    }
    assert_eq!(emulator.edit_count(), 0);
    assert!(!out.exists());
}

#[test]
fn auto_takes_the_index_from_the_scheduler_and_the_shards_split_the_jobs() {
    let emulator = openai_emulator();
    let dir = job_dir();
    let jobs = many_jobs(dir.path(), 20, &[]);
    let out = dir.path().join("out").to_string_lossy().into_owned();
    let mut seen = BTreeSet::new();
    for (variable, index) in [
        ("JOB_COMPLETION_INDEX", "0"),
        ("AWS_BATCH_JOB_ARRAY_INDEX", "1"),
        ("JOB_COMPLETION_INDEX", "2"),
    ] {
        let output = worker(&emulator, &jobs, &out)
            .env(variable, index)
            .args(["--shard", "auto/3", "--dry-run", "--json"])
            .output()
            .expect("dry run");
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        for event in json_lines(&output).iter().filter(|e| e["event"] == "plan") {
            assert!(
                seen.insert(event["id"].as_str().expect("id").to_string()),
                "a job in two shards"
            );
        }
    }
    assert_eq!(seen.len(), 20, "every job in exactly one shard");
    assert_eq!(emulator.edit_count(), 0, "a dry run sends nothing");
}

#[test]
fn auto_without_an_index_is_refused() {
    let emulator = openai_emulator();
    let dir = job_dir();
    let jobs = many_jobs(dir.path(), 2, &[]);
    let output = worker(&emulator, &jobs, &dir.path().join("out").to_string_lossy())
        .args(["--shard", "auto/3"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("JOB_COMPLETION_INDEX"), "{}", stderr(&output));
}

#[test]
fn adding_jobs_does_not_move_finished_ones_to_another_shard() {
    let emulator = openai_emulator();
    let dir = job_dir();
    let out = dir.path().join("out").to_string_lossy().into_owned();
    let before = plan(&emulator, &many_jobs(dir.path(), 10, &[]), &out, "1/3");
    let extra = vec![r#"{"id": "new", "prompt": "p", "image": "img/a.png"}"#.to_string()];
    let after = plan(&emulator, &many_jobs(dir.path(), 10, &extra), &out, "1/3");
    assert!(before.is_subset(&after), "{before:?} -> {after:?}");
}

#[test]
fn bad_output_locations_are_refused_before_any_paid_request() {
    let emulator = openai_emulator();
    let dir = job_dir();
    let jobs = many_jobs(dir.path(), 2, &[]);
    // (--out, extra environment, what the error says)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case<'_>; 4] = [
        ("ftp://host/out", &[], "unknown scheme `ftp://`"),
        ("s3:///out", &[], "no bucket; write s3://BUCKET/PATH"),
        (
            "s3://photos/out",
            &[("AWS_EC2_METADATA_DISABLED", "true")],
            "no usable credentials: set AWS_ACCESS_KEY_ID",
        ),
        (
            "az://photos/out",
            &[],
            "no usable credentials: set AZURE_STORAGE_ACCOUNT_NAME",
        ),
    ];
    for (out, env, message) in cases {
        let mut cmd = worker(&emulator, &jobs, out);
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AZURE_STORAGE_ACCOUNT_NAME",
            "AZURE_STORAGE_USE_EMULATOR",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        let output = cmd.output().expect("run");
        assert_eq!(code(&output), 2, "{out}: {}", stderr(&output));
        assert!(stderr(&output).contains(message), "{out}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(out.trim_end_matches("/out")),
            "{out}: names the URL: {}",
            stderr(&output)
        );
    }
    assert_eq!(emulator.edit_count(), 0);
}

#[test]
fn a_file_url_works_like_a_path_for_jobs_and_results() {
    let emulator = openai_emulator();
    let dir = job_dir();
    let jobs = many_jobs(dir.path(), 2, &[]);
    let out = dir.path().join("out");
    let output = worker(
        &emulator,
        Path::new(&format!("file://{}", jobs.display())),
        &format!("file://{}", out.display()),
    )
    .output()
    .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(results(&out), ["j00.png", "j01.png"]);
}

#[test]
fn two_workers_given_the_same_shard_pay_once_per_job() {
    let emulator = openai_emulator();
    emulator.set_latency(Duration::from_millis(30));
    let dir = job_dir();
    let jobs = many_jobs(dir.path(), 8, &[]);
    let out = dir.path().join("out");
    let out_arg = out.to_string_lossy().into_owned();
    let spawn = || {
        worker(&emulator, &jobs, &out_arg)
            .args(["--shard", "0/1", "--json"])
            .spawn()
            .expect("spawn")
    };
    let (first, second) = (spawn(), spawn());
    let outputs = [finish(first), finish(second)];
    let mut succeeded = 0;
    for output in &outputs {
        // 4 when a worker started while the other had a job in flight: it
        // cannot tell that job from an interrupted one, and leaves it alone.
        assert!(matches!(code(output), 0 | 4), "{}", stderr(output));
        succeeded += json_lines(output).last().expect("summary")["succeeded"]
            .as_u64()
            .expect("count");
    }
    assert_eq!(succeeded, 8, "each job succeeded in exactly one worker");
    assert_eq!(emulator.edit_count(), 8, "one paid request per job");
    assert_eq!(results(&out).len(), 8);
}

/// An http server on 127.0.0.1 serving `png` at any path, except that the
/// first request for `/hold.png` is never answered (and announced on the
/// channel): a worker downloading it is stopped before it claims anything.
fn hold_server(png: Vec<u8>) -> (String, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (held, announce) = mpsc::channel();
    std::thread::spawn(move || {
        let mut parked = Vec::new();
        let mut holding = true;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            if holding && String::from_utf8_lossy(&head).starts_with("GET /hold.png") {
                holding = false;
                let _ = held.send(());
                parked.push(stream);
                continue;
            }
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                png.len()
            );
            let _ = stream
                .write_all(header.as_bytes())
                .and_then(|()| stream.write_all(&png));
        }
    });
    (url, announce)
}

#[test]
fn a_simulated_indexed_job_with_a_worker_killed_and_restarted_pays_once_per_job() {
    const WORKERS: usize = 3;
    let emulator = openai_emulator();
    emulator.set_latency(Duration::from_millis(20));
    let dir = job_dir();
    let png = std::fs::read(dir.path().join("img/a.png")).expect("photo");
    let (server, held) = hold_server(png);
    let hold = format!(r#"{{"id": "held", "prompt": "add a hat", "image": "{server}/hold.png"}}"#);
    let jobs = many_jobs(dir.path(), 12, &[hold]);
    let out = dir.path().join("out");
    let out_arg = out.to_string_lossy().into_owned();
    let index_of_held = (0..WORKERS)
        .find(|i| plan(&emulator, &jobs, &out_arg, &format!("{i}/{WORKERS}")).contains("held"))
        .expect("some shard runs `held`");

    let start = |index: usize| {
        worker(&emulator, &jobs, &out_arg)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .args(["--shard", &format!("auto/{WORKERS}"), "--json"])
            .spawn()
            .expect("spawn")
    };
    let mut workers: Vec<Option<Child>> = (0..WORKERS).map(|i| Some(start(i))).collect();
    // The kill lands while the victim downloads `held`'s input: after its
    // earlier jobs, before it claims `held`, with no paid request in flight.
    held.recv_timeout(Duration::from_secs(20))
        .expect("the victim reached `held`");
    let mut victim = workers[index_of_held].take().expect("victim");
    victim.kill().expect("kill -9");
    let killed = finish(victim);
    assert!(killed.status.code().is_none(), "killed by a signal");
    workers[index_of_held] = Some(start(index_of_held));

    for (index, child) in workers.into_iter().enumerate() {
        let output = finish(child.expect("worker"));
        assert_eq!(code(&output), 0, "worker {index}: {}", stderr(&output));
    }

    let mut expected: Vec<String> = (0..12).map(|i| format!("j{i:02}.png")).collect();
    expected.push("held.png".into());
    expected.sort();
    assert_eq!(results(&out), expected, "every job has exactly one result");
    let leftovers: Vec<String> = walk(&out)
        .into_iter()
        .filter(|name| name.contains('#') || name.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no partial object: {leftovers:?}");
    assert_eq!(emulator.edit_count(), 13, "one paid request per job");

    let status = msgflux()
        .args(["batch", "status", &out_arg, "--json"])
        .output()
        .expect("status");
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    let status = json(&status);
    let total = &status["total"];
    assert_eq!(
        (
            total["jobs"].as_u64(),
            total["done"].as_u64(),
            total["pending"].as_u64()
        ),
        (Some(13), Some(13), Some(0)),
        "{status:#}"
    );
    assert_eq!(
        (
            total["interrupted"].as_u64(),
            total["in_flight_or_interrupted"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(status["shards"].as_object().map(|shards| shards.len()), Some(WORKERS));
}

/// Every file under a folder, as paths relative to it.
fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                found.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    found
}

#[cfg(unix)]
#[test]
fn a_worker_killed_with_a_request_in_flight_is_reported_and_never_silently_resent() {
    let emulator = openai_emulator();
    let dir = job_dir();
    let stuck = r#"{"id": "stuck", "prompt": "hang here", "image": "img/a.png"}"#;
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[stuck]);
    let out = dir.path().join("out");
    let out_arg = out.to_string_lossy().into_owned();
    let spec = if plan(&emulator, &jobs, &out_arg, "0/2").contains("stuck") {
        "0/2"
    } else {
        "1/2"
    };
    let child = worker(&emulator, &jobs, &out_arg)
        .args(["--shard", spec])
        .spawn()
        .expect("spawn");
    let mut child = child;
    wait_until("the request to reach the emulator", || emulator.edit_count() == 1);
    child.kill().expect("kill -9");
    let _ = finish(child);

    let output = worker(&emulator, &jobs, &out_arg)
        .args(["--shard", spec])
        .output()
        .expect("restart");
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("job stuck (line 1) was interrupted"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("may have been billed"), "{}", stderr(&output));
    assert_eq!(emulator.edit_count(), 1, "not sent again");

    let status = msgflux()
        .args(["batch", "status", &out_arg, "--json"])
        .output()
        .expect("status");
    let status = json(&status);
    assert_eq!(
        status["total"]["in_flight_or_interrupted"].as_u64(),
        Some(1),
        "{status:#}"
    );

    let unstuck = r#"{"id": "stuck", "prompt": "add a scarf", "image": "img/a.png"}"#;
    let jobs = write_jobs(dir.path(), "jobs.jsonl", &[unstuck]);
    let output = worker(&emulator, &jobs, &out_arg)
        .args(["--shard", spec, "--resend-interrupted"])
        .output()
        .expect("resend");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(emulator.edit_count(), 2);
    assert_eq!(results(&out), ["stuck.png"]);
}

#[test]
fn status_and_merge_read_every_shard() {
    let emulator = openai_emulator();
    let dir = job_dir();
    let missing = r#"{"id": "gone", "prompt": "p", "image": "img/missing.png"}"#.to_string();
    let jobs = many_jobs(dir.path(), 6, &[missing]);
    let out = dir.path().join("out");
    let out_arg = out.to_string_lossy().into_owned();
    for spec in ["0/2", "1/2"] {
        let output = worker(&emulator, &jobs, &out_arg)
            .args(["--shard", spec])
            .output()
            .expect("run");
        assert!(matches!(code(&output), 0 | 4), "{}", stderr(&output));
    }
    let status = msgflux()
        .args(["batch", "status", &out_arg, "--json"])
        .output()
        .expect("status");
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    let status = json(&status);
    assert_eq!(status["total"]["jobs"].as_u64(), Some(7), "{status:#}");
    assert_eq!(status["total"]["done"].as_u64(), Some(6));
    assert_eq!(status["total"]["failed_by_kind"]["invalid_input"].as_u64(), Some(1));
    assert!(status["total"]["cost_usd"].as_f64().expect("cost") > 0.0);

    let merged = msgflux().args(["batch", "merge", &out_arg]).output().expect("merge");
    assert_eq!(code(&merged), 0, "{}", stderr(&merged));
    assert!(stdout(&merged).contains("total"), "{}", stdout(&merged));
    let lines = std::fs::read_to_string(out.join("merged.jsonl")).expect("merged manifest");
    let ids: BTreeMap<String, String> = lines
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON"))
        .map(|r| {
            (
                r["id"].as_str().unwrap_or("").to_string(),
                r["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(ids.len(), 7);
    assert_eq!(ids["gone"], "failed");
}

#[test]
fn rate_spreads_the_starts_of_one_worker() {
    let emulator = openai_emulator();
    let dir = job_dir();
    let jobs = many_jobs(dir.path(), 3, &[]);
    let out = dir.path().join("out");
    let started = Instant::now();
    let output = worker(&emulator, &jobs, &out.to_string_lossy())
        .args(["--rate", "600/min"])
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(started.elapsed() >= Duration::from_millis(200), "3 starts 100 ms apart");
    assert_eq!(manifest(&out).len(), 3);
}

#[test]
fn edit_writes_its_result_to_a_file_url() {
    let dir = job_dir();
    let out = dir.path().join("edited");
    let output = msgflux()
        .args(["edit", "-m", "local/telea", "--prompt", "remove", "--mask"])
        .arg(dir.path().join("img/mask.png"))
        .arg("--image")
        .arg(format!("file://{}", dir.path().join("img/a.png").display()))
        .arg("--out")
        .arg(format!("file://{}", out.display()))
        .output()
        .expect("edit");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(file_names(&out), ["a-edited.png"]);
}

#[test]
fn edit_refuses_an_unknown_output_scheme_before_editing() {
    let dir = job_dir();
    write_photo(&dir.path().join("x.png"), 8, 8);
    let output = msgflux()
        .args([
            "edit",
            "-m",
            "local/telea",
            "--prompt",
            "remove",
            "--out",
            "ftp://host/out",
            "--image",
        ])
        .arg(dir.path().join("x.png"))
        .output()
        .expect("edit");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("invalid out: ftp://host/out: unknown scheme"),
        "{}",
        stderr(&output)
    );
}

/// The S3 bucket `crates/msgflux-storage/tests/run.sh` created on its local
/// S3 server, or `None` (the test then says so and passes).
fn s3_bucket() -> Option<String> {
    let bucket = std::env::var("MSGFLUX_TEST_S3_BUCKET").ok().filter(|b| !b.is_empty());
    if bucket.is_none() {
        eprintln!("skipped: MSGFLUX_TEST_S3_BUCKET is not set (crates/msgflux-storage/tests/run.sh sets it)");
    }
    bucket
}

/// Uploads the jobs directory's photos and a jobs file naming them relatively, under `prefix`.
fn upload_batch(bucket: &str, prefix: &str, dir: &Path, jobs: usize) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let storage = msgflux_storage::Storage::new();
    let base = msgflux_storage::Location::parse(&format!("s3://{bucket}/{prefix}")).expect("url");
    runtime.block_on(async {
        for name in ["a", "b", "c"] {
            let bytes = std::fs::read(dir.join(format!("img/{name}.png"))).expect("photo");
            storage
                .write(&base.join(&format!("img/{name}.png")), bytes.into())
                .await
                .expect("upload");
        }
        let lines: String = (0..jobs)
            .map(|i| {
                format!(
                    "{{\"id\": \"j{i:02}\", \"prompt\": \"add a hat\", \"image\": \"img/{}.png\"}}\n",
                    ["a", "b", "c"][i % 3]
                )
            })
            .collect();
        storage
            .write(&base.join("jobs.jsonl"), lines.into())
            .await
            .expect("upload jobs");
    });
    format!("s3://{bucket}/{prefix}")
}

fn s3_names(url: &str) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let location = msgflux_storage::Location::parse(url).expect("url");
    runtime
        .block_on(msgflux_storage::Storage::new().list(&location))
        .expect("list")
        .into_iter()
        .map(|object| object.name)
        .collect()
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{nanos}")
}

#[test]
fn a_sharded_batch_reads_jobs_and_inputs_from_s3_and_writes_results_there_on_s3() {
    let Some(bucket) = s3_bucket() else { return };
    let emulator = openai_emulator();
    let dir = job_dir();
    let base = upload_batch(&bucket, &unique("batch"), dir.path(), 6);
    let out = format!("{base}/out");
    let jobs = format!("{base}/jobs.jsonl");
    for spec in ["0/2", "1/2", "1/2"] {
        let output = worker(&emulator, Path::new(&jobs), &out)
            .args(["--shard", spec])
            .output()
            .expect("run");
        assert_eq!(code(&output), 0, "{spec}: {}", stderr(&output));
    }
    assert_eq!(emulator.edit_count(), 6, "the rerun of shard 1 sent nothing");
    let names = s3_names(&out);
    let results: Vec<&String> = names.iter().filter(|n| n.ends_with(".png")).collect();
    assert_eq!(results.len(), 6, "{names:?}");
    assert!(
        names.iter().any(|n| n.starts_with(".msgflux/manifests/0-of-2.")),
        "{names:?}"
    );
    assert_eq!(names.iter().filter(|n| n.starts_with(".msgflux/claims/")).count(), 6);
    let status = msgflux()
        .args(["batch", "status", &out, "--json"])
        .output()
        .expect("status");
    let status = json(&status);
    assert_eq!(
        (status["total"]["done"].as_u64(), status["total"]["pending"].as_u64()),
        (Some(6), Some(0)),
        "{status:#}"
    );
}

#[test]
fn two_workers_on_one_shard_pay_once_per_job_through_conditional_writes_on_s3() {
    let Some(bucket) = s3_bucket() else { return };
    let emulator = openai_emulator();
    emulator.set_latency(Duration::from_millis(30));
    let dir = job_dir();
    let base = upload_batch(&bucket, &unique("twice"), dir.path(), 6);
    let (jobs, out) = (format!("{base}/jobs.jsonl"), format!("{base}/out"));
    let spawn = || {
        worker(&emulator, Path::new(&jobs), &out)
            .arg("--json")
            .spawn()
            .expect("spawn")
    };
    let (first, second) = (spawn(), spawn());
    let mut succeeded = 0;
    for output in [finish(first), finish(second)] {
        assert!(matches!(code(&output), 0 | 4), "{}", stderr(&output));
        succeeded += json_lines(&output).last().expect("summary")["succeeded"]
            .as_u64()
            .expect("count");
    }
    assert_eq!((succeeded, emulator.edit_count()), (6, 6));
}

#[test]
fn a_bucket_that_does_not_exist_is_refused_before_any_paid_request_on_s3() {
    let Some(_) = s3_bucket() else { return };
    let emulator = openai_emulator();
    let dir = job_dir();
    let jobs = many_jobs(dir.path(), 2, &[]);
    let output = worker(&emulator, &jobs, "s3://no-such-bucket-msgflux/out")
        .output()
        .expect("run");
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("`no-such-bucket-msgflux` does not exist"),
        "{}",
        stderr(&output)
    );
    assert_eq!(emulator.edit_count(), 0);
}

/// fake-gcs-server's URL and the bucket `crates/msgflux-storage/tests/run.sh`
/// created there, or `None` (the test then says so and passes).
fn gcs() -> Option<(String, String)> {
    let url = std::env::var("MSGFLUX_TEST_GCS_URL").ok().filter(|v| !v.is_empty());
    let bucket = std::env::var("MSGFLUX_TEST_GCS_BUCKET").ok().filter(|v| !v.is_empty());
    if url.is_none() || bucket.is_none() {
        eprintln!("skipped: MSGFLUX_TEST_GCS_URL is not set (crates/msgflux-storage/tests/run.sh sets it)");
    }
    Some((url?, bucket?))
}

/// Copies every file under `dir` to `gs://BUCKET/PREFIX/`, through the
/// emulator's JSON API: fake-gcs-server refuses object_store's XML PUT
/// (docs/batch.md), so msgflux cannot write there itself.
fn gcs_upload(gcs: &(String, String), dir: &Path, prefix: &str) -> String {
    let (url, bucket) = gcs;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = msgflux::kit::http::client_builder().build().expect("client");
    for name in walk(dir) {
        let bytes = std::fs::read(dir.join(&name)).expect("read");
        let sent = runtime.block_on(
            client
                // The names here (letters, digits, `-`, `.`, `/`) need no escaping in a query.
                .post(format!(
                    "{url}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={prefix}/{name}"
                ))
                .body(bytes)
                .send(),
        );
        assert!(sent.expect("upload").status().is_success(), "uploading {name}");
    }
    format!("gs://{bucket}/{prefix}")
}

#[test]
fn a_batch_reads_its_jobs_and_inputs_from_gcs_on_gcs() {
    let Some(gcs) = gcs() else { return };
    let emulator = openai_emulator();
    let dir = job_dir();
    many_jobs(dir.path(), 6, &[]);
    let base = gcs_upload(&gcs, dir.path(), &unique("inputs"));
    let out = tempfile::tempdir().expect("out");
    let output = worker(
        &emulator,
        Path::new(&format!("{base}/jobs.jsonl")),
        &out.path().to_string_lossy(),
    )
    .output()
    .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!((results(out.path()).len(), emulator.edit_count()), (6, 6));
}

#[test]
fn batch_status_reads_every_shards_manifest_from_gcs_on_gcs() {
    let Some(gcs) = gcs() else { return };
    let emulator = openai_emulator();
    let dir = job_dir();
    let jobs = many_jobs(dir.path(), 6, &[]);
    let out = tempfile::tempdir().expect("out");
    for spec in ["0/2", "1/2"] {
        let output = worker(&emulator, &jobs, &out.path().to_string_lossy())
            .args(["--shard", spec])
            .output()
            .expect("run");
        assert_eq!(code(&output), 0, "{spec}: {}", stderr(&output));
    }
    let stored = gcs_upload(&gcs, out.path(), &unique("status"));
    let status = msgflux()
        .args(["batch", "status", &stored, "--json"])
        .output()
        .expect("status");
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    let status = json(&status);
    assert_eq!(
        (status["total"]["done"].as_u64(), status["total"]["pending"].as_u64()),
        (Some(6), Some(0)),
        "{status:#}"
    );
    assert_eq!(status["shards"].as_object().map(|shards| shards.len()), Some(2));
}
