//! Edits a sample photo through Black Forest Labs' API: a mask drawn in
//! code marks the coffee in the cup, FLUX.1 Fill \[pro\] repaints it, and the
//! example saves the results and a before/after view with the mask outlined.
//!
//! ```text
//! BFL_API_KEY=... cargo run -p edit-bfl
//! cargo run -p edit-bfl -- --model flux-kontext-pro --prompt "make it a cappuccino"
//! cargo run -p edit-bfl -- --base-url http://127.0.0.1:18090 --key bfl_emulator_key
//! ```
//!
//! The mask is drawn the msgflux way (transparent = edit); the provider
//! converts it to the white = repaint mask Fill reads. Models without a mask
//! (Kontext, FLUX.2) edit the whole image from the prompt, and the
//! keep-unmasked step pastes the original back outside the mask. `--base-url`
//! points the example at any server speaking BFL's API, such as the
//! emulator of `crates/msgflux-emulators` (see README.md beside this file).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use msgflux_bfl::{BflBuilder, Region};
use msgflux_core::{MaskConvention, Model, ResponseFormat, write_atomic};
use msgflux_image::{Mask, Rect, before_after_png};

/// Edit a sample photo with a mask through Black Forest Labs' API.
#[derive(Debug, Parser)]
struct Args {
    /// The photo to edit.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/coffee.png"))]
    image: PathBuf,
    /// What to paint in the masked area.
    #[arg(long, default_value = "a cappuccino with a leaf of latte art in white milk foam")]
    prompt: String,
    /// The BFL model: flux-pro-1.0-fill, flux-kontext-pro, flux-2-pro, ...
    #[arg(long, default_value = "flux-pro-1.0-fill")]
    model: String,
    /// How many variations (one task each, each billed).
    #[arg(long, default_value_t = 1)]
    n: u32,
    /// A seed, for repeatable results.
    #[arg(long)]
    seed: Option<u64>,
    /// BFL's regional endpoint: global, eu or us.
    #[arg(long, default_value = "global")]
    region: String,
    /// The API base URL, without `/v1` (a proxy, the emulator); wins over the region.
    #[arg(long, env = "BFL_BASE_URL")]
    base_url: Option<String>,
    /// The API key.
    #[arg(long, env = "BFL_API_KEY", hide_env_values = true)]
    key: Option<String>,
    /// Where to write result*.png, mask.png and before-after.png.
    #[arg(long, default_value = "out/edit-bfl")]
    out: PathBuf,
}

/// The mask: an ellipse over the coffee in the cup, in proportions of the
/// photo so that any input size works.
fn coffee_mask(width: u32, height: u32) -> Mask {
    let bounds = Rect::new(width * 34 / 100, height * 23 / 100, width * 28 / 100, height * 26 / 100);
    Mask::ellipse(width, height, bounds)
}

fn region(name: &str) -> msgflux_core::Result<Region> {
    Ok(match name {
        "global" => Region::Global,
        "eu" => Region::Eu,
        "us" => Region::Us,
        other => {
            return Err(msgflux_core::Error::config(format!(
                "unknown region `{other}`: global, eu or us"
            )));
        }
    })
}

async fn run(args: Args) -> msgflux_core::Result<()> {
    let before = msgflux_image::decode_file(&args.image, &Default::default())?.image;
    let mask = coffee_mask(before.width(), before.height());
    let mask_png = mask.to_png(MaskConvention::TransparentIsEdit)?;

    let mut builder = BflBuilder::from_env().with_region(region(&args.region)?);
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
        .option("output_format", "png")
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
    println!("task(s): {}", response.request_id.as_deref().unwrap_or("-"));
    if let Some(cost) = &response.cost {
        println!("cost: ${:.4} ({})", cost.usd, cost.basis);
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
