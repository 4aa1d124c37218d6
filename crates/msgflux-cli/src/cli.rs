//! The command line: global flags and the list of commands. Each command's
//! own flags live in its module under `commands/`.

use clap::{Parser, Subcommand};

#[cfg(feature = "serve")]
use crate::commands::serve;
use crate::commands::{batch, compare, edit, leak, mask, prepare, providers};

/// Edit existing images from a text prompt through any provider (OpenAI,
/// Replicate, or offline local fill), and prepare the masks and inputs they need.
///
/// Masks given to msgflux always mark the area to edit with transparent
/// pixels (alpha 0); opaque pixels are kept. Providers that want another
/// convention get theirs automatically.
#[derive(Debug, Parser)]
#[command(name = "msgflux", version, propagate_version = true, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 ok, 1 a check failed (leak over --max-leak), 2 invalid input or usage, \
3 provider or service error, 4 some batch jobs failed, 5 file I/O error, 130 interrupted."
)]
pub struct Cli {
    /// Print one JSON document on stdout (JSON lines for `batch`), for scripts.
    #[arg(long, global = true)]
    pub json: bool,

    /// Log what happens on stderr: -v info, -vv debug, -vvv trace (RUST_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Edit one image (or several, for models that take several) from a prompt.
    Edit(edit::EditArgs),
    /// Draw a mask (transparent = edit) from shapes, or threshold an image into one.
    Mask(mask::MaskArgs),
    /// Fit an image (and its mask) to a model's rules or to a size: RGBA, size, format, byte budget.
    Prepare(prepare::PrepareArgs),
    /// Write a before/after picture of an edit.
    Compare(compare::CompareArgs),
    /// Report how much an edit changed pixels outside its mask.
    Leak(leak::LeakArgs),
    /// Run many edits from a JSONL or CSV file, resumable, with progress and a cost summary.
    Batch(batch::BatchArgs),
    /// List the providers and models compiled in, with what each accepts.
    Providers(providers::ProvidersArgs),
    /// Serve an OpenAI-compatible image-edit API (POST /v1/images/edits) in front of every provider.
    #[cfg(feature = "serve")]
    Serve(serve::ServeArgs),
}
