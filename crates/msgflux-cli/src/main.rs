//! `msgflux`: edit existing images from a text prompt, from a shell.
//!
//! `main` parses the command line, sets up logging for `-v`, runs the command
//! and turns its outcome into an exit code (see `exit`).

// The command line: global flags and the list of commands.
mod cli;
// One module per command.
mod commands;
// Exit codes, and the one mapping from `msgflux::Error` to them.
mod exit;
// Where results go: file names and atomic writes.
mod files;
// `--model`, `--option`, `--api-key-env`, `--base-url`: building a model.
mod model_args;
// Human lines, `--json` documents and error lines.
mod output;
// Command-line value parsers (sizes, seconds, points, `key=value`).
mod parse;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::Cli;
use crate::output::Output;

// Keeps freed memory for reuse instead of returning each large buffer to the
// system (see the `jemalloc` feature in Cargo.toml).
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // Clap prints usage errors itself and exits with 2 (0 for --help and --version).
    let cli = Cli::try_parse().unwrap_or_else(|err| err.exit());
    init_tracing(cli.verbose);
    let output = Output::new(cli.json);
    // The gateway serves many connections at once, on every core; every
    // other command is one job at a time.
    #[cfg(feature = "serve")]
    let serving = matches!(cli.command, cli::Command::Serve(_));
    #[cfg(not(feature = "serve"))]
    let serving = false;
    let runtime = if serving {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            let err = msgflux::Error::io("tokio runtime", err);
            output.error(&err);
            return exit::for_error(&err).into();
        }
    };
    let outcome = runtime.block_on(commands::run(cli.command, &output));
    // Let blocking work (atomic renames of results) finish before exiting.
    drop(runtime);
    match outcome {
        Ok(exit) => exit.into(),
        Err(err) => {
            output.error(&err);
            exit::for_error(&err).into()
        }
    }
}

/// `-v` shows what msgflux does (info), `-vv` adds debug details, `-vvv`
/// everything; `RUST_LOG` overrides. Logs go to stderr.
fn init_tracing(verbosity: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    use std::io::IsTerminal as _;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in a log file or a pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(verbosity > 1)
        .init();
}
