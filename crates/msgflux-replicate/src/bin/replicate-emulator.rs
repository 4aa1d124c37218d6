//! Runs the Replicate API emulator on 127.0.0.1, for examples and CI jobs
//! that need a Replicate without a token or the internet.
//!
//! ```text
//! # serve until killed
//! cargo run -p msgflux-replicate --features emulator --bin replicate-emulator -- --port 18089
//! # run one command against it, then check what it sent
//! cargo run -p msgflux-replicate --features emulator --bin replicate-emulator -- --expect-creates 1 -- \
//!     target/debug/edit-replicate --base-url {base_url} --token {token}
//! ```
//!
//! Options: `--port N` (default 0: a free port), `--polls N` (polls each
//! prediction takes, default 2), `--spec PATH` (the API description requests
//! are checked against; default the repository's copy), `--expect-creates N`
//! (with a command: fail unless exactly N predictions were created).
//!
//! With a command after `--`, `{base_url}` and `{token}` in its arguments are
//! replaced, the command runs, and the emulator exits with failure when the
//! command fails, when any request broke the API description or a model's
//! input schema, or when the number of created predictions differs from
//! `--expect-creates`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use msgflux_replicate::emulator::{Emulator, SPEC_PATH};

#[derive(Debug)]
struct Options {
    port: u16,
    polls: u32,
    spec: Option<PathBuf>,
    expect_creates: Option<usize>,
    command: Vec<String>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        polls: 2,
        spec: Some(PathBuf::from(SPEC_PATH)).filter(|p| p.exists()),
        expect_creates: None,
        command: Vec::new(),
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => options.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--polls" => options.polls = value()?.parse().map_err(|e| format!("--polls: {e}"))?,
            "--spec" => options.spec = Some(PathBuf::from(value()?)),
            "--expect-creates" => {
                options.expect_creates = Some(value()?.parse().map_err(|e| format!("--expect-creates: {e}"))?)
            }
            "--" => {
                options.command = args.by_ref().collect();
                break;
            }
            "--help" | "-h" => {
                return Err(
                    "usage: replicate-emulator [--port N] [--polls N] [--spec PATH] [--expect-creates N] [-- COMMAND ...]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument `{other}`; try --help")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let emulator = match Emulator::start_on(SocketAddr::from(([127, 0, 0, 1], options.port))).await {
        Ok(emulator) => emulator,
        Err(err) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {err}", options.port);
            return ExitCode::FAILURE;
        }
    };
    if let Some(spec) = &options.spec
        && let Err(err) = emulator.load_spec(spec)
    {
        eprintln!("cannot load the API description {}: {err}", spec.display());
        return ExitCode::FAILURE;
    }
    emulator.set_default_polls(options.polls);
    println!(
        "Replicate emulator on {} (token {})",
        emulator.base_url(),
        emulator.token()
    );
    if options.command.is_empty() {
        std::future::pending::<()>().await;
        return ExitCode::SUCCESS;
    }
    run_command(&emulator, &options).await
}

async fn run_command(emulator: &Emulator, options: &Options) -> ExitCode {
    let base_url = emulator.base_url();
    let args: Vec<String> = options
        .command
        .iter()
        .map(|a| a.replace("{base_url}", &base_url).replace("{token}", emulator.token()))
        .collect();
    let status = match tokio::process::Command::new(&args[0]).args(&args[1..]).status().await {
        Ok(status) => status,
        Err(err) => {
            eprintln!("cannot run `{}`: {err}", args[0]);
            return ExitCode::FAILURE;
        }
    };
    let counts = emulator.counts();
    let violations = emulator.violations();
    println!(
        "emulator: {} create call(s), {} poll(s), {} upload(s), {} cancel(s), {} download(s)",
        counts.create_posts, counts.polls, counts.uploads, counts.cancels, counts.downloads
    );
    let mut failed = !status.success();
    if failed {
        eprintln!("the command failed: {status}");
    }
    for violation in &violations {
        eprintln!("spec violation: {violation}");
        failed = true;
    }
    if let Some(expected) = options.expect_creates
        && counts.create_posts != expected
    {
        eprintln!("expected {expected} create call(s), got {}", counts.create_posts);
        failed = true;
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
