//! `msgflux compare`: a before/after picture (`msgflux::image::side_by_side`),
//! with the mask outlined and optionally a difference heatmap. `edit
//! --compare` writes the same picture.

use std::path::{Path, PathBuf};

use clap::Args;
use msgflux::image::{CompareOptions, Decoded, Mask, Overlay, decode, difference_heatmap, encode_png, side_by_side};
use msgflux::{DecodeLimits, Error, InputLoader, MaskConvention, Result};
use serde_json::json;

use crate::exit::Exit;
use crate::files;
use crate::output::Output;

/// Flags of `msgflux compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The image before the edit: a file or an http(s) URL.
    #[arg(value_name = "BEFORE")]
    pub before: String,

    /// The image after the edit.
    #[arg(value_name = "AFTER")]
    pub after: String,

    /// Outline the edit area of this mask (transparent = edit, the size of BEFORE) on every panel.
    #[arg(long, value_name = "FILE|URL")]
    pub mask: Option<String>,

    /// Add a third panel: a heatmap of what changed (BEFORE and AFTER must be the same size).
    #[arg(long)]
    pub diff: bool,

    /// Height of each panel in pixels (default: the smaller image's height).
    #[arg(long, value_name = "PX", value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub height: Option<u32>,

    /// Where to write the picture (PNG).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: PathBuf,
}

/// A written comparison picture.
struct Picture {
    path: PathBuf,
    width: u32,
    height: u32,
}

/// Writes the before/after picture.
pub async fn run(args: CompareArgs, output: &Output) -> Result<Exit> {
    let picture = write_picture(
        &args.before,
        &args.after,
        args.mask.as_deref(),
        args.diff,
        args.height,
        &args.out,
    )
    .await?;
    output.line(picture.path.display().to_string());
    output.document(&json!({
        "path": picture.path,
        "width": picture.width,
        "height": picture.height,
    }));
    Ok(Exit::Success)
}

/// The picture `edit --compare` writes for one result: the first input
/// image beside the result, with the mask outlined.
pub async fn write_before_after(before: &str, after: &Path, mask: Option<&str>, out: &Path) -> Result<PathBuf> {
    let after = after.to_string_lossy();
    Ok(write_picture(before, &after, mask, false, None, out).await?.path)
}

async fn write_picture(
    before: &str,
    after: &str,
    mask: Option<&str>,
    diff: bool,
    height: Option<u32>,
    out: &Path,
) -> Result<Picture> {
    let loader = InputLoader::default();
    let before = load(&loader, before, "before").await?;
    let after = load(&loader, after, "after").await?;
    let mask = match mask {
        Some(mask) => Some(load_bytes(&loader, mask, "mask").await?),
        None => None,
    };
    let out = out.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut options = CompareOptions::new().with_labels(["before", "after", "difference"]);
        if let Some(height) = height {
            options = options.with_height(height);
        }
        if let Some(bytes) = mask {
            let mask = Mask::decode(
                &bytes,
                MaskConvention::TransparentIsEdit,
                &DecodeLimits::default(),
                "mask",
            )?;
            options = options.with_overlay(mask, Overlay::OUTLINE);
        }
        let heatmap = if diff {
            Some(difference_heatmap(&before.image, &after.image)?.into())
        } else {
            None
        };
        let mut panels = vec![&before.image, &after.image];
        if let Some(heatmap) = &heatmap {
            panels.push(heatmap);
        }
        let view = side_by_side(&panels, &options)?;
        let (width, height) = view.dimensions();
        let png = encode_png(&view.into())?;
        files::write_file_now(&out, &png)?;
        Ok(Picture {
            path: out,
            width,
            height,
        })
    })
    .await
    .map_err(|err| Error::io("comparison", std::io::Error::other(err)))?
}

/// Loads and decodes an image given as a file or URL; `what` names it in errors.
pub async fn load(loader: &InputLoader, raw: &str, what: &str) -> Result<Decoded> {
    let bytes = load_bytes(loader, raw, what).await?;
    let what = what.to_string();
    tokio::task::spawn_blocking(move || decode(&bytes, &DecodeLimits::default(), &what))
        .await
        .map_err(|err| Error::io("decode", std::io::Error::other(err)))?
}

async fn load_bytes(loader: &InputLoader, raw: &str, what: &str) -> Result<Vec<u8>> {
    Ok(files::load_image(loader, raw, what).await?.bytes.to_vec())
}
