//! `msgflux leak`: how much an edit changed outside its mask
//! (`msgflux::image::leak_report`), and with `--max-leak` a check that fails
//! with exit code 1 when too much did.

use clap::Args;
use msgflux::image::{Mask, leak_report};
use msgflux::{DecodeLimits, Error, InputLoader, MaskConvention, Result};
use serde_json::json;

use crate::commands::compare::load;
use crate::exit::Exit;
use crate::files;
use crate::output::Output;

/// Flags of `msgflux leak`.
#[derive(Debug, Args)]
pub struct LeakArgs {
    /// The image before the edit: a file or an http(s) URL.
    #[arg(value_name = "BEFORE")]
    pub before: String,

    /// The image after the edit (the same size).
    #[arg(value_name = "AFTER")]
    pub after: String,

    /// The mask of the edit (transparent = edit, the same size).
    #[arg(long, value_name = "FILE|URL")]
    pub mask: String,

    /// A pixel counts as changed when a channel moved by more than this many levels (0-255).
    #[arg(long, value_name = "LEVELS", default_value_t = 8)]
    pub threshold: u8,

    /// Fail (exit code 1) when more than this share of the pixels outside the mask changed: 0.01 or 1%.
    #[arg(long, value_name = "FRACTION", value_parser = crate::parse::fraction)]
    pub max_leak: Option<f64>,
}

/// Measures the leak and reports it.
pub async fn run(args: LeakArgs, output: &Output) -> Result<Exit> {
    let loader = InputLoader::default();
    let before = load(&loader, &args.before, "before").await?;
    let after = load(&loader, &args.after, "after").await?;
    let mask_bytes = files::load_image(&loader, &args.mask, "mask").await?.bytes;
    let threshold = args.threshold;
    let report = tokio::task::spawn_blocking(move || {
        let mask = Mask::decode(
            &mask_bytes,
            MaskConvention::TransparentIsEdit,
            &DecodeLimits::default(),
            "mask",
        )?;
        leak_report(&before.image, &after.image, &mask, threshold)
    })
    .await
    .map_err(|err| Error::io("leak report", std::io::Error::other(err)))??;

    let passed = args.max_leak.is_none_or(|max| report.changed_fraction <= max);
    output.line(report.to_string());
    match args.max_leak {
        Some(max) if !passed => output.line(format!(
            "FAIL: {:.2}% changed outside the mask; the limit is {:.2}%",
            report.changed_fraction * 100.0,
            max * 100.0
        )),
        Some(max) => output.line(format!("ok: within the limit of {:.2}%", max * 100.0)),
        None => {}
    }
    output.document(&json!({
        "report": report,
        "clean": report.is_clean(),
        "max_leak": args.max_leak,
        "passed": passed,
    }));
    Ok(if passed { Exit::Success } else { Exit::CheckFailed })
}
