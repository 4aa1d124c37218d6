//! Runs the OpenAI `images/edits` emulator (`msgflux_openai::emulator`) on
//! 127.0.0.1, so that examples, CI and benchmarks run end to end without a
//! key or the network.
//!
//! ```text
//! openai-emulator [--port N] [FAULTS]                      serve on 127.0.0.1 until killed
//! openai-emulator [--port N] [FAULTS] [--expect-requests N] -- COMMAND [ARG...]
//! ```
//!
//! `--port N` picks the port (default 0: a free one). `FAULTS` (for
//! benchmarks and demos; by default every answer is immediate and normal):
//!
//! - `--latency-ms N`: every normal answer waits N ms after the request was
//!   read (a simulated service time).
//! - `--stall-first-ms N`: the first edit request is accepted, then answered
//!   normally only after N ms (past a client's read timeout when N is
//!   longer); later requests are answered as usual.
//! - `--fail-first-status S`: the first edit request is answered with status
//!   S (e.g. 503) and an OpenAI `server_error` body; later ones as usual.
//! - `--reuse-answers`: a JSON answer is computed once per distinct request
//!   content and reused for identical requests (each is still checked and
//!   counted), so that a benchmark measures its client, not the emulator.
//!
//! With a command, the emulator runs it with `OPENAI_BASE_URL` and
//! `OPENAI_API_KEY` pointing at itself (and `{base_url}` in the arguments
//! replaced by the base URL), then exits with the command's status, or with
//! status 1 when it saw a request that breaks the spec or the service's rules,
//! or not the number of requests given with `--expect-requests`:
//!
//! ```text
//! cargo build -p edit-openai
//! cargo run -p msgflux-openai --features emulator --bin openai-emulator -- --expect-requests 1 -- \
//!     target/debug/edit-openai --base-url {base_url} --out target/edit-openai
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use msgflux_openai::emulator::{EMULATOR_KEY, Emulator, Reply};

struct Args {
    port: u16,
    expect_requests: Option<usize>,
    latency_ms: u64,
    stall_first_ms: Option<u64>,
    fail_first_status: Option<u16>,
    reuse_answers: bool,
    command: Vec<String>,
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or(format!("{flag} needs a number"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: `{value}` is not a valid number"))
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        expect_requests: None,
        latency_ms: 0,
        stall_first_ms: None,
        fail_first_status: None,
        reuse_answers: false,
        command: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => {
                let value = it.next().ok_or("--port needs a number")?;
                args.port = value.parse().map_err(|_| format!("--port: `{value}` is not a port"))?;
            }
            "--expect-requests" => {
                let value = it.next().ok_or("--expect-requests needs a number")?;
                args.expect_requests = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--expect-requests: `{value}` is not a number"))?,
                );
            }
            "--latency-ms" => args.latency_ms = number(&arg, it.next())?,
            "--stall-first-ms" => args.stall_first_ms = Some(number(&arg, it.next())?),
            "--fail-first-status" => {
                let status: u16 = number(&arg, it.next())?;
                if !(400..=599).contains(&status) {
                    return Err(format!("--fail-first-status: {status} is not an error status"));
                }
                args.fail_first_status = Some(status);
            }
            "--reuse-answers" => args.reuse_answers = true,
            "--" => {
                args.command = it.collect();
                break;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if args.stall_first_ms.is_some() && args.fail_first_status.is_some() {
        return Err("--stall-first-ms and --fail-first-status both script the first request; pick one".into());
    }
    Ok(args)
}

const USAGE: &str = "usage: openai-emulator [--port N] [--latency-ms N] [--stall-first-ms N] \
                     [--fail-first-status S] [--reuse-answers] [--expect-requests N] [-- COMMAND [ARG...]]";

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("openai-emulator: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let emulator = match Emulator::start_on(SocketAddr::from(([127, 0, 0, 1], args.port))).await {
        Ok(emulator) => emulator,
        Err(err) => {
            eprintln!("openai-emulator: cannot listen on 127.0.0.1:{}: {err}", args.port);
            return ExitCode::from(1);
        }
    };
    emulator.set_latency(Duration::from_millis(args.latency_ms));
    emulator.set_reuse_answers(args.reuse_answers);
    if let Some(ms) = args.stall_first_ms {
        emulator.script([Reply::SuccessAfter(Duration::from_millis(ms))]);
    }
    if let Some(status) = args.fail_first_status {
        emulator.script([Reply::error(status, "server_error", "server_error")]);
    }
    let base_url = emulator.base_url();
    eprintln!("openai-emulator: serving {base_url} (key {EMULATOR_KEY})");
    if args.command.is_empty() {
        std::future::pending::<()>().await;
        return ExitCode::SUCCESS;
    }
    let command: Vec<String> = args
        .command
        .iter()
        .map(|a| a.replace("{base_url}", &base_url))
        .collect();
    let child_base_url = base_url.clone();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&command[0])
            .args(&command[1..])
            .env("OPENAI_BASE_URL", child_base_url)
            .env("OPENAI_API_KEY", EMULATOR_KEY)
            .status()
    })
    .await;
    let status = match status {
        Ok(Ok(status)) => status,
        Ok(Err(err)) => {
            eprintln!("openai-emulator: cannot run `{}`: {err}", args.command[0]);
            return ExitCode::from(1);
        }
        Err(err) => {
            eprintln!("openai-emulator: the command runner failed: {err}");
            return ExitCode::from(1);
        }
    };
    let mut failed = !status.success();
    if failed {
        eprintln!("openai-emulator: the command failed ({status})");
    }
    let problems = emulator.problems();
    for problem in &problems {
        eprintln!("openai-emulator: bad request: {problem}");
    }
    failed |= !problems.is_empty();
    let count = emulator.post_count();
    if let Some(expected) = args.expect_requests
        && count != expected
    {
        eprintln!("openai-emulator: expected {expected} edit requests, got {count}");
        failed = true;
    }
    eprintln!(
        "openai-emulator: {count} edit request(s), {} problem(s)",
        problems.len()
    );
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
