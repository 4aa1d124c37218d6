//! Edits a sample photo through fal.ai: a mask drawn in code marks the
//! coffee in the cup, FLUX Fill repaints it, and the example saves the
//! results and a before/after view with the mask outlined.
//!
//! ```text
//! FAL_KEY=... cargo run -p edit-fal
//! cargo run -p edit-fal -- --model fal-ai/flux-pro/kontext --prompt "make the cup red"
//! cargo run -p edit-fal -- --base-url http://127.0.0.1:18090 --key fal_emulator_key
//! ```
//!
//! The mask is drawn the msgflux way (transparent = edit); the provider
//! converts it to the white = fill mask FLUX Fill reads. For apps that take
//! no mask (Kontext, Qwen, Seedream, Nano Banana) the mask only says what may
//! change: the original is pasted back outside it. `--base-url` points the
//! example at any server speaking fal's queue API, such as the fal emulator
//! of `crates/msgflux-emulators` (see README.md beside this file).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use msgflux_core::{MaskConvention, Model, ResponseFormat, write_atomic};
use msgflux_fal::FalBuilder;
use msgflux_image::{Mask, Rect, before_after_png};

/// Edit a sample photo with a mask through fal.ai.
#[derive(Debug, Parser)]
struct Args {
    /// The photo to edit.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/coffee.png"))]
    image: PathBuf,
    /// What to paint in the masked area.
    #[arg(long, default_value = "a cappuccino with a leaf of latte art in white milk foam")]
    prompt: String,
    /// The fal app: `owner/app[/path]`.
    #[arg(long, default_value = "fal-ai/flux-pro/v1/fill")]
    model: String,
    /// How many variations.
    #[arg(long, default_value_t = 1)]
    n: u32,
    /// A seed, for repeatable results.
    #[arg(long)]
    seed: Option<u64>,
    /// One origin for fal's queue, storage and platform APIs (a proxy, the emulator).
    #[arg(long, env = "FAL_BASE_URL")]
    base_url: Option<String>,
    /// The API key.
    #[arg(long, env = "FAL_KEY", hide_env_values = true)]
    key: Option<String>,
    /// Where to write result*.png, mask.png and before-after.png.
    #[arg(long, default_value = "out/edit-fal")]
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

    let mut builder = FalBuilder::from_env();
    if let Some(url) = &args.base_url {
        builder = builder.with_base_url(url);
    }
    if let Some(key) = &args.key {
        builder = builder.with_api_key(key);
    }
    let model = Model::from_provider(Arc::new(builder.build(&args.model)?));
    println!("editing {} with {model}", args.image.display());

    let mut edit = model
        .edit(&args.prompt)
        .image(args.image.clone())
        .mask(mask_png.clone())
        .n(args.n)
        .response_format(ResponseFormat::Base64);
    if let Some(seed) = args.seed {
        edit = edit.seed(seed);
    }
    let response = edit.await?;

    let saved = response.save_all(&args.out, "result").await?;
    write_atomic(&args.out.join("mask.png"), &mask_png)?;
    let after = response.images[0].to_image().await?;
    let view_path = args.out.join("before-after.png");
    write_atomic(&view_path, &before_after_png(&before, &after, Some(mask))?)?;

    for path in &saved {
        println!("result: {}", path.display());
    }
    println!("before/after: {}", view_path.display());
    println!("fal request: {}", response.request_id.as_deref().unwrap_or("-"));
    if let Some(position) = response.metadata["queue_position"].as_u64() {
        println!("queue position at submit: {position}");
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
