//! Edits a sample photo through OpenAI: a mask drawn in code marks the space
//! shuttle model beside the astronaut, the model replaces it, and the example
//! saves the result and a before/after view with the mask outlined.
//!
//! ```text
//! OPENAI_API_KEY=sk-... cargo run -p edit-openai
//! cargo run -p edit-openai -- --model dall-e-2 --prepare        # dall-e-2 needs RGBA: prepare converts
//! cargo run -p edit-openai -- --base-url http://127.0.0.1:8080/v1 --api-key anything
//! ```
//!
//! `--base-url` points it at any OpenAI-compatible server, such as this
//! repository's emulator (see README.md beside this file).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use msgflux_core::{Model, ResponseFormat, write_atomic};
use msgflux_image::{Mask, Rect, before_after_png};
use msgflux_openai::OpenAIBuilder;

/// Edit a sample photo with a mask through OpenAI.
#[derive(Debug, Parser)]
struct Args {
    /// The photo to edit.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/astronaut.png"))]
    image: PathBuf,
    /// What to do in the masked area.
    #[arg(long, default_value = "Replace the space shuttle model with a tall potted fern")]
    prompt: String,
    /// The OpenAI model.
    #[arg(long, default_value = "gpt-image-1.5")]
    model: String,
    /// Convert inputs that break the model's rules (dall-e-2 wants a square RGBA PNG).
    #[arg(long)]
    prepare: bool,
    /// An OpenAI-compatible base URL (a proxy, a local server, the emulator).
    #[arg(long, env = "OPENAI_BASE_URL")]
    base_url: Option<String>,
    /// The API key.
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Where to write result.png, mask.png and before-after.png.
    #[arg(long, default_value = "out/edit-openai")]
    out: PathBuf,
}

/// The mask: an ellipse over the shuttle model in the top-right of the
/// photo, in proportions of the photo so that any input size works.
fn shuttle_mask(width: u32, height: u32) -> Mask {
    let bounds = Rect::new(width * 64 / 100, 0, width * 31 / 100, height * 58 / 100);
    Mask::ellipse(width, height, bounds)
}

async fn run(args: Args) -> msgflux_core::Result<()> {
    let before = msgflux_image::decode_file(&args.image, &Default::default())?.image;
    let mask = shuttle_mask(before.width(), before.height());
    let mask_png = mask.to_png(msgflux_core::MaskConvention::TransparentIsEdit)?;

    let mut builder = OpenAIBuilder::from_env();
    if let Some(url) = &args.base_url {
        builder = builder.with_base_url(url);
    }
    if let Some(key) = &args.api_key {
        builder = builder.with_api_key(key);
    }
    let model = Model::from_provider(Arc::new(builder.build(&args.model)?));
    println!("editing {} with {model}", args.image.display());

    let response = model
        .edit(&args.prompt)
        .image(args.image.clone())
        .mask(mask_png.clone())
        .prepare(args.prepare)
        .response_format(ResponseFormat::Base64)
        .await?;

    let saved = response.save_all(&args.out, "result").await?;
    write_atomic(&args.out.join("mask.png"), &mask_png)?;
    let after = response.images[0].to_image().await?;
    let view_path = args.out.join("before-after.png");
    write_atomic(&view_path, &before_after_png(&before, &after, Some(mask))?)?;

    for path in &saved {
        println!("result: {}", path.display());
    }
    println!("before/after: {}", view_path.display());
    println!("request id: {}", response.request_id.as_deref().unwrap_or("-"));
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
    if let Some(prepared) = response.metadata.get("prepared") {
        println!("prepared: {prepared}");
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
