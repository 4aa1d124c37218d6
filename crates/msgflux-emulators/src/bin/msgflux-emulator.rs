//! Serves one of the emulators on 127.0.0.1, or runs a command against it
//! and checks what the command sent: examples, CI and benchmarks run end to
//! end without a key or the network.
//!
//! ```text
//! msgflux-emulator openai                                    serve until killed
//! msgflux-emulator openai --expect-paid 1 -- target/debug/edit-openai --base-url {base_url}
//! msgflux-emulator replicate --polls 2 --expect-paid 1 -- target/debug/edit-replicate --base-url {base_url} --token {key}
//! ```
//!
//! With a command, the emulator runs it with the provider's environment
//! variables pointing at itself (`OPENAI_BASE_URL`/`OPENAI_API_KEY`,
//! `REPLICATE_BASE_URL`/`REPLICATE_API_TOKEN`), `{base_url}` and `{key}` in
//! its arguments replaced, then exits with the command's status, or 1 when it
//! saw a request that breaks the contract or the service's rules, or not the
//! number of paid requests given with `--expect-paid`.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use msgflux_emulators::engine::Emulated;
use msgflux_emulators::{Fault, bfl, fal, google, openai, replicate, stability};

/// Serves an emulator on 127.0.0.1, or runs a command against it.
#[derive(Debug, Parser)]
#[command(name = "msgflux-emulator", version)]
struct Args {
    /// Which API to emulate.
    provider: Provider,

    /// The port of 127.0.0.1 to listen on (0: a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// Every normal answer waits this long after the request was read (a simulated service time; OpenAI).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency_ms: u64,

    /// Polls each asynchronous job takes before it ends (Replicate predictions,
    /// Stability generations, BFL tasks, fal requests).
    #[arg(long, value_name = "N", default_value_t = 2)]
    polls: u32,

    /// Every pixel outside the mask moves by this many levels, as models that treat the mask as a hint do.
    #[arg(long, value_name = "LEVELS", default_value_t = 0)]
    leak: u8,

    /// A fault for the first paid request: `stall-ms:N` (answer only after N ms), `status:S`
    /// (a server error with status S), `rate-limit-ms:N`, `quota`, `policy`, `hang`.
    #[arg(long, value_name = "FAULT", value_parser = parse_fault)]
    first_fault: Option<Fault>,

    /// Compute a JSON answer once per distinct request and reuse it (so a benchmark measures its client; OpenAI).
    #[arg(long)]
    reuse_answers: bool,

    /// Fail unless exactly this many paid requests (edits, prediction creates) arrived.
    #[arg(long, value_name = "N")]
    expect_paid: Option<usize>,

    /// Without a command: serve until standard input closes, then check what
    /// arrived as after a command (for test runners that start the emulator
    /// themselves, such as the Python package's pytest suite).
    #[arg(long, conflicts_with = "command")]
    until_stdin_closes: bool,

    /// The command to run against the emulator, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Provider {
    Openai,
    Replicate,
    Stability,
    Bfl,
    Fal,
    Google,
}

fn parse_fault(text: &str) -> Result<Fault, String> {
    let number = |value: &str| value.parse::<u64>().map_err(|_| format!("`{value}` is not a number"));
    Ok(match text.split_once(':') {
        Some(("stall-ms", ms)) => Fault::Delay(Duration::from_millis(number(ms)?)),
        Some(("rate-limit-ms", ms)) => Fault::rate_limited_ms(number(ms)?),
        Some(("status", status)) => {
            let status = u16::try_from(number(status)?).map_err(|_| format!("`{status}` is not a status"))?;
            if !(400..=599).contains(&status) {
                return Err(format!("{status} is not an error status"));
            }
            Fault::ServerError { status }
        }
        None if text == "quota" => Fault::QuotaExceeded,
        None if text == "policy" => Fault::ContentPolicy,
        None if text == "hang" => Fault::Hang,
        _ => return Err(format!("unknown fault `{text}`")),
    })
}

/// Starts the emulator the arguments name, set up as they say.
/// Starts one emulator on the asked port with what every emulator takes
/// (`--leak`, `--first-fault`), after `$tune` sets the knobs of its own.
macro_rules! started {
    ($module:ident, $args:expr, |$e:ident| $tune:block) => {{
        let $e = $module::Emulator::start_on($args.port).await?;
        $tune
        $e.set_leak($args.leak);
        if let Some(fault) = &$args.first_fault {
            $e.inject(fault.clone());
        }
        Box::new($e) as Box<dyn Emulated>
    }};
}

async fn start(args: &Args) -> std::io::Result<Box<dyn Emulated>> {
    let latency = Duration::from_millis(args.latency_ms);
    Ok(match args.provider {
        Provider::Openai => started!(openai, args, |e| {
            e.set_latency(latency);
            e.set_reuse_answers(args.reuse_answers);
        }),
        Provider::Replicate => started!(replicate, args, |e| { e.set_default_polls(args.polls) }),
        Provider::Stability => started!(stability, args, |e| { e.set_default_polls(args.polls) }),
        Provider::Bfl => started!(bfl, args, |e| { e.set_default_polls(args.polls) }),
        Provider::Fal => started!(fal, args, |e| { e.set_default_polls(args.polls) }),
        Provider::Google => started!(google, args, |e| { e.set_latency(latency) }),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let running = match start(&args).await {
        Ok(running) => running,
        Err(err) => {
            eprintln!("msgflux-emulator: cannot listen on 127.0.0.1:{}: {err}", args.port);
            return ExitCode::from(1);
        }
    };
    let (base_url, key) = (running.base_url(), running.key());
    eprintln!("msgflux-emulator: {:?} at {base_url} (key {key})", args.provider);
    if args.until_stdin_closes {
        // A blocking read on its own thread: the runtime keeps serving meanwhile.
        let _ = tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink())).await;
        return verdict(running.as_ref(), args.expect_paid, false);
    }
    if args.command.is_empty() {
        std::future::pending::<()>().await;
        return ExitCode::SUCCESS;
    }
    let command: Vec<String> = args
        .command
        .iter()
        .map(|a| {
            a.replace("{base_url}", &base_url)
                .replace("{key}", key)
                .replace("{token}", key)
        })
        .collect();
    let status = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .envs(running.client_env())
        .status()
        .await;
    let status = match status {
        Ok(status) => status,
        Err(err) => {
            eprintln!("msgflux-emulator: cannot run `{}`: {err}", command[0]);
            return ExitCode::from(1);
        }
    };
    let failed = !status.success();
    if failed {
        eprintln!("msgflux-emulator: the command failed ({status})");
    }
    verdict(running.as_ref(), args.expect_paid, failed)
}

/// Reports what arrived (every broken rule, the paid count) and fails on a
/// broken rule, a wrong count, or an earlier failure.
fn verdict(running: &dyn Emulated, expect_paid: Option<usize>, mut failed: bool) -> ExitCode {
    let problems = running.problems();
    for problem in &problems {
        eprintln!("msgflux-emulator: bad request: {problem}");
    }
    failed |= !problems.is_empty();
    let paid = running.paid_count();
    if let Some(expected) = expect_paid
        && paid != expected
    {
        eprintln!("msgflux-emulator: expected {expected} paid request(s), got {paid}");
        failed = true;
    }
    eprintln!(
        "msgflux-emulator: {paid} paid request(s), {} problem(s)",
        problems.len()
    );
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
