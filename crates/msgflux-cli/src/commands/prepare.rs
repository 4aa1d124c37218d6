//! `msgflux prepare`: fits an image (and its mask, kept aligned) to a model's
//! rules or to a size, and says what changed.

use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, ValueEnum};
use msgflux::image::{CropAnchor, Fit, PadFill, PrepareTarget, prepare_bytes};
use msgflux::{DecodeLimits, Error, ImageFormat, Registry, Result, Size};
use serde_json::json;

use crate::exit::Exit;
use crate::files;
use crate::output::Output;

/// Flags of `msgflux prepare`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("target").required(true).args(["for_model", "size"])))]
pub struct PrepareArgs {
    /// The image to prepare.
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,

    /// Its mask (transparent = edit); it is placed exactly like the image. Needs --mask-out.
    #[arg(long, value_name = "FILE", requires = "mask_out")]
    pub mask: Option<PathBuf>,

    /// Prepare for this model's rules (size, squareness, format, byte limit), e.g. openai/dall-e-2.
    #[arg(long = "for", value_name = "PROVIDER/MODEL", conflicts_with = "size")]
    pub for_model: Option<String>,

    /// Prepare to exactly this size, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", value_parser = crate::parse::size)]
    pub size: Option<Size>,

    /// How another shape fits the size (--size, or the model's with --for): stretch it (the default),
    /// pad it (transparent borders), or crop it (around the mask).
    #[arg(long, value_enum)]
    pub fit: Option<FitArg>,

    /// Where to write the prepared image. With --size its extension picks the format (png, jpg, webp).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: PathBuf,

    /// Where to write the prepared mask (PNG, transparent = edit).
    #[arg(long, value_name = "FILE", requires = "mask")]
    pub mask_out: Option<PathBuf>,
}

/// `--fit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FitArg {
    /// Scale each side independently; nothing is lost, shapes may distort.
    Stretch,
    /// Scale to fit inside and fill the borders with transparent pixels.
    Pad,
    /// Scale to cover and cut what sticks out, keeping the mask's area in view.
    Crop,
}

impl From<FitArg> for Fit {
    fn from(fit: FitArg) -> Self {
        match fit {
            FitArg::Stretch => Fit::Stretch,
            FitArg::Pad => Fit::Pad(PadFill::Transparent),
            FitArg::Crop => Fit::Crop(CropAnchor::Mask),
        }
    }
}

/// Prepares the image and writes the results.
pub fn run(args: PrepareArgs, output: &Output) -> Result<Exit> {
    let target = match (&args.for_model, args.size) {
        (Some(model), _) => {
            let mut target = PrepareTarget::from_capabilities(&Registry::global().describe(model)?, None);
            if let Some(fit) = args.fit {
                target = target.with_fit(fit.into());
            }
            check_extension(&args.out, target.format, model)?;
            target
        }
        (None, Some(size)) => PrepareTarget::new()
            .with_size(size)
            .with_fit(args.fit.unwrap_or(FitArg::Stretch).into())
            .with_format(format_from_extension(&args.out)?),
        (None, None) => return Err(Error::invalid("for", "give --for PROVIDER/MODEL or --size WxH")),
    };
    let image = files::read_input(&args.image, "image")?;
    let mask = args
        .mask
        .as_deref()
        .map(|path| files::read_input(path, "mask"))
        .transpose()?;
    let prepared = prepare_bytes(&image, mask.as_deref(), &target, &DecodeLimits::default())?;

    files::write_file_now(&args.out, &prepared.image_bytes)?;
    if let (Some(path), Some(bytes)) = (&args.mask_out, &prepared.mask_bytes) {
        files::write_file_now(path, bytes)?;
    }

    let report = &prepared.report;
    output.line(format!("{}", report));
    output.line(args.out.display().to_string());
    if let Some(path) = &args.mask_out {
        output.line(path.display().to_string());
    }
    output.document(&json!({
        "image": args.out,
        "mask": args.mask_out,
        "unchanged": report.unchanged(),
        "changes": report.changes,
        "report": report,
    }));
    Ok(Exit::Success)
}

/// PNG, JPEG or WebP, from the output file's extension.
fn format_from_extension(path: &Path) -> Result<ImageFormat> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "png" => Ok(ImageFormat::Png),
        "jpg" | "jpeg" => Ok(ImageFormat::Jpeg),
        "webp" => Ok(ImageFormat::Webp),
        _ => Err(Error::invalid(
            "out",
            format!(
                "{} has no image extension; name it .png, .jpg or .webp to pick the format",
                path.display()
            ),
        )),
    }
}

/// With --for, the model decides the format; the output's extension must agree.
fn check_extension(path: &Path, format: ImageFormat, model: &str) -> Result<()> {
    match format_from_extension(path) {
        Ok(found) if found == format => Ok(()),
        _ => Err(Error::invalid(
            "out",
            format!(
                "{model} takes {format}; name the output .{} (got {})",
                format.extension(),
                path.display()
            ),
        )),
    }
}
