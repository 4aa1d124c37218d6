//! Edits a sample photo through a Gemini image model: a mask drawn in code
//! marks the coffee in the cup; Gemini takes no mask, so the model redraws
//! the picture from the prompt and the keep-unmasked step pastes the
//! original back outside the mask. The example saves the results, the mask
//! and a before/after view with the mask outlined, and prints how much the
//! model had changed outside the mask.
//!
//! ```text
//! GEMINI_API_KEY=AIza... cargo run -p edit-google
//! cargo run -p edit-google -- --model gemini-3-pro-image-preview --n 2 --mask-hint tint
//! cargo run -p edit-google -- --base-url http://127.0.0.1:18090 --api-key emulator-gemini-key
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use msgflux_core::{MaskConvention, Model, ResponseFormat, write_atomic};
use msgflux_google::{GoogleBuilder, MaskHint};
use msgflux_image::{Mask, Rect, before_after_png};

/// Edit a sample photo through a Gemini image model.
#[derive(Debug, Parser)]
struct Args {
    /// The photo to edit.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/coffee.png"))]
    image: PathBuf,
    /// What to change.
    #[arg(
        long,
        default_value = "make the coffee in the cup a cappuccino with a leaf of latte art in white milk foam"
    )]
    prompt: String,
    /// The Gemini image model.
    #[arg(long, default_value = msgflux_google::DEFAULT_MODEL)]
    model: String,
    /// How many variations (one call each, each billed).
    #[arg(long, default_value_t = 1)]
    n: u32,
    /// Send the mask as a hint image too: `tint` or `outline` (default: not sent).
    #[arg(long)]
    mask_hint: Option<String>,
    /// The API base URL (a proxy, the emulator); also `GOOGLE_GEMINI_BASE_URL`.
    #[arg(long, env = "GOOGLE_GEMINI_BASE_URL")]
    base_url: Option<String>,
    /// The API key; also `GEMINI_API_KEY` or `GOOGLE_API_KEY`.
    #[arg(long, env = "GEMINI_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Where to write result*.png, mask.png and before-after.png.
    #[arg(long, default_value = "out/edit-google")]
    out: PathBuf,
}

/// The mask: an ellipse over the coffee in the cup, in proportions of the
/// photo so that any input size works.
fn coffee_mask(width: u32, height: u32) -> Mask {
    let bounds = Rect::new(width * 34 / 100, height * 23 / 100, width * 28 / 100, height * 26 / 100);
    Mask::ellipse(width, height, bounds)
}

async fn run(args: Args) -> msgflux_core::Result<()> {
    let before = msgflux_image::decode_file(&args.image, &Default::default())?.image;
    let mask = coffee_mask(before.width(), before.height());
    let mask_png = mask.to_png(MaskConvention::TransparentIsEdit)?;

    let mut builder = GoogleBuilder::from_env();
    if let Some(url) = &args.base_url {
        builder = builder.with_base_url(url);
    }
    if let Some(key) = &args.api_key {
        builder = builder.with_api_key(key);
    }
    match args.mask_hint.as_deref() {
        None | Some("none") => {}
        Some("tint") => builder = builder.with_mask_hint(MaskHint::Tint),
        Some("outline") => builder = builder.with_mask_hint(MaskHint::Outline),
        Some(other) => {
            return Err(msgflux_core::Error::invalid(
                "mask_hint",
                format!("`{other}` is not none, tint or outline"),
            ));
        }
    }
    let model = Model::from_provider(Arc::new(builder.build(&args.model)?));
    println!("editing {} with {model}", args.image.display());

    let response = model
        .edit(&args.prompt)
        .image(args.image.clone())
        .mask(mask_png.clone())
        .keep_unmasked(true)
        .n(args.n)
        .response_format(ResponseFormat::Base64)
        .await?;

    let saved = response.save_all(&args.out, "result").await?;
    write_atomic(&args.out.join("mask.png"), &mask_png)?;
    let after = response.images[0].to_image().await?;
    let view_path = args.out.join("before-after.png");
    write_atomic(&view_path, &before_after_png(&before, &after, Some(mask))?)?;

    for (path, image) in saved.iter().zip(&response.images) {
        match &image.unmasked {
            Some(kept) => println!(
                "result: {} (the model changed {:.1}% of the pixels outside the mask; the original was pasted back there)",
                path.display(),
                kept.leak.changed_fraction * 100.0
            ),
            None => println!("result: {}", path.display()),
        }
    }
    println!("before/after: {}", view_path.display());
    println!("response id: {}", response.request_id.as_deref().unwrap_or("-"));
    if let Some(usage) = &response.usage {
        println!(
            "tokens: {} in, {} out",
            usage.input_tokens.unwrap_or(0),
            usage.output_tokens.unwrap_or(0)
        );
    }
    if let Some(cost) = &response.cost {
        println!("estimated cost: ${:.4} ({})", cost.usd, cost.basis);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
