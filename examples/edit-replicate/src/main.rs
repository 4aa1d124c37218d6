//! Edits a sample photo through Replicate: a mask drawn in code marks the
//! coffee in the cup, stable-diffusion-inpainting repaints it, and the
//! example saves the results and a before/after view with the mask outlined.
//!
//! ```text
//! REPLICATE_API_TOKEN=r8_... cargo run -p edit-replicate
//! cargo run -p edit-replicate -- --model black-forest-labs/flux-fill-pro --n 2
//! cargo run -p edit-replicate -- --base-url http://127.0.0.1:18089/v1 --token r8_emulator_token
//! ```
//!
//! The mask is drawn the msgflux way (transparent = edit); the provider
//! converts it to the white = repaint mask these models read. `--base-url`
//! points the example at any server speaking Replicate's API, such as the
//! emulator of the msgflux-replicate crate (see README.md beside this file).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use msgflux_core::{MaskConvention, Model, ResponseFormat, write_atomic};
use msgflux_image::{Mask, Rect, before_after_png};
use msgflux_replicate::ReplicateBuilder;

/// Edit a sample photo with a mask through Replicate.
#[derive(Debug, Parser)]
struct Args {
    /// The photo to edit.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/coffee.png"))]
    image: PathBuf,
    /// What to paint in the masked area.
    #[arg(long, default_value = "a cappuccino with a leaf of latte art in white milk foam")]
    prompt: String,
    /// The Replicate model: `owner/name`, `owner/name:version` or `deployments/owner/name`.
    #[arg(long, default_value = "stability-ai/stable-diffusion-inpainting")]
    model: String,
    /// How many variations.
    #[arg(long, default_value_t = 1)]
    n: u32,
    /// A seed, for repeatable results.
    #[arg(long)]
    seed: Option<u64>,
    /// The API base URL, with `/v1` (a proxy, the emulator).
    #[arg(long, env = "REPLICATE_BASE_URL")]
    base_url: Option<String>,
    /// The API token.
    #[arg(long, env = "REPLICATE_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Where to write result*.png, mask.png and before-after.png.
    #[arg(long, default_value = "out/edit-replicate")]
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

    let mut builder = ReplicateBuilder::from_env();
    if let Some(url) = &args.base_url {
        builder = builder.with_base_url(url);
    }
    if let Some(token) = &args.token {
        builder = builder.with_api_token(token);
    }
    let model = Model::from_provider(Arc::new(builder.build(&args.model)?));
    println!("editing {} with {model}", args.image.display());

    let mut edit = model
        .edit(&args.prompt)
        .image(args.image.clone())
        .mask(mask_png.clone())
        .n(args.n)
        // Delivery URLs expire after about an hour: fetch the images now.
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
    println!("prediction(s): {}", response.request_id.as_deref().unwrap_or("-"));
    if let Some(seconds) = response.metadata["predict_time"].as_f64() {
        println!("predict time: {seconds:.2} s");
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
