//! One module per command, and the dispatch from the parsed command line.

pub mod batch;
pub mod compare;
pub mod edit;
pub mod leak;
pub mod mask;
pub mod prepare;
pub mod providers;
#[cfg(feature = "serve")]
pub mod serve;

use msgflux::Result;

use crate::cli::Command;
use crate::exit::Exit;
use crate::output::Output;

/// Runs a command and says how the program should end.
pub async fn run(command: Command, output: &Output) -> Result<Exit> {
    match command {
        Command::Edit(args) => stop_on_ctrl_c(edit::run(args, output), output).await,
        Command::Mask(args) => mask::run(args, output),
        Command::Prepare(args) => prepare::run(args, output),
        Command::Compare(args) => compare::run(args, output).await,
        Command::Leak(args) => leak::run(args, output).await,
        // The batch handles Ctrl-C itself, to record what finished and print its summary.
        Command::Batch(args) => batch::run(args, output).await,
        Command::Providers(args) => providers::run(args, output),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(args).await,
    }
}

/// Runs `work` until it ends or Ctrl-C arrives; Ctrl-C drops (cancels) it.
/// Files are only ever renamed into place whole, so nothing half-written stays.
async fn stop_on_ctrl_c(work: impl Future<Output = Result<Exit>>, output: &Output) -> Result<Exit> {
    tokio::select! {
        outcome = work => outcome,
        Ok(()) = tokio::signal::ctrl_c() => {
            output.warn("interrupted; the edit was cancelled");
            Ok(Exit::Interrupted)
        }
    }
}
