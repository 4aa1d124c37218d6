//! Edits a sample photo through Stability AI: a mask drawn in code marks the
//! coffee in the cup, the inpaint service repaints it, and the example saves
//! the results and a before/after view with the mask outlined.
//!
//! ```text
//! STABILITY_API_KEY=sk-... cargo run -p edit-stability
//! cargo run -p edit-stability -- --service erase
//! cargo run -p edit-stability -- --base-url http://127.0.0.1:18090 --key sk-stability-emulator
//! ```
//!
//! The mask is drawn the msgflux way (transparent = edit); the provider
//! converts it to the white = edit mask Stability reads. Services that take
//! no mask (search-and-recolor, remove-background, ...) get none: the
//! original is pasted back outside it instead. `--base-url` points the
//! example at any server speaking Stability's API, such as the emulator of
//! the msgflux-emulators crate (see README.md beside this file).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use msgflux_core::{MaskConvention, Model, ResponseFormat, write_atomic};
use msgflux_image::{Mask, Rect, before_after_png};
use msgflux_stability::StabilityBuilder;

/// Edit a sample photo with a mask through Stability AI.
#[derive(Debug, Parser)]
struct Args {
    /// The photo to edit.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/coffee.png"))]
    image: PathBuf,
    /// What to paint in the masked area.
    #[arg(long, default_value = "a cappuccino with a leaf of latte art in white milk foam")]
    prompt: String,
    /// The service: inpaint, erase, outpaint, search-and-replace, search-and-recolor,
    /// remove-background or replace-background-and-relight.
    #[arg(long, default_value = "inpaint")]
    service: String,
    /// Options as `name=value` (`grow_mask=10`, `search_prompt=the coffee`, `left=128`).
    #[arg(long = "option", value_name = "NAME=VALUE")]
    options: Vec<String>,
    /// How many variations (one generation, and one charge, each).
    #[arg(long, default_value_t = 1)]
    n: u32,
    /// A seed, for repeatable results.
    #[arg(long)]
    seed: Option<u64>,
    /// The API base URL, without `/v2beta` (a proxy, the emulator).
    #[arg(long, env = "STABILITY_BASE_URL")]
    base_url: Option<String>,
    /// The API key.
    #[arg(long, env = "STABILITY_API_KEY", hide_env_values = true)]
    key: Option<String>,
    /// Where to write result*.png, mask.png and before-after.png.
    #[arg(long, default_value = "out/edit-stability")]
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

    let mut builder = StabilityBuilder::from_env();
    if let Some(url) = &args.base_url {
        builder = builder.with_base_url(url);
    }
    if let Some(key) = &args.key {
        builder = builder.with_api_key(key);
    }
    let model = Model::from_provider(Arc::new(builder.build(&args.service)?));
    println!("editing {} with {model}", args.image.display());

    let caps = model.capabilities().await?;
    let mut edit = model
        .edit(&args.prompt)
        .image(args.image.clone())
        .n(args.n)
        .response_format(ResponseFormat::Base64);
    // Outpaint grows the canvas: the mask does not apply to its result.
    if args.service != "outpaint" {
        edit = edit.mask(mask_png.clone());
    }
    for option in &args.options {
        let Some((name, raw)) = option.split_once('=') else {
            return Err(msgflux_core::Error::invalid(
                "option",
                format!("`{option}` is not NAME=VALUE"),
            ));
        };
        let value = match caps.option(name) {
            Some(spec) => spec.parse(raw)?,
            None => msgflux_core::OptionValue::Text(raw.to_string()),
        };
        edit = edit.option(name, value);
    }
    if let Some(seed) = args.seed {
        edit = edit.seed(seed);
    }
    let response = edit.await?;

    let saved = response.save_all(&args.out, "result").await?;
    write_atomic(&args.out.join("mask.png"), &mask_png)?;
    let after = response.images[0].to_image().await?;
    let view_path = args.out.join("before-after.png");
    let outline = (after.width(), after.height()) == (before.width(), before.height());
    write_atomic(&view_path, &before_after_png(&before, &after, outline.then_some(mask))?)?;

    for path in &saved {
        println!("result: {}", path.display());
    }
    println!("before/after: {}", view_path.display());
    println!("request id(s): {}", response.request_id.as_deref().unwrap_or("-"));
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
