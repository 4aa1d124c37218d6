//! `msgflux mask`: draws a mask from a shape, or thresholds an image into
//! one, then grows, shrinks, inverts or feathers it, and writes it in the
//! convention asked for (transparent = edit by default, what msgflux takes).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use msgflux::image::{Decoded, Mask, Rect, Stroke, decode};
use msgflux::{DecodeLimits, Error, MaskConvention, Result, Size};
use serde_json::json;

use crate::exit::Exit;
use crate::files;
use crate::output::Output;

/// Flags of `msgflux mask`.
#[derive(Debug, Args)]
pub struct MaskArgs {
    #[command(subcommand)]
    pub shape: Shape,
}

/// What the mask edits.
#[derive(Debug, Subcommand)]
pub enum Shape {
    /// The rectangle X Y WIDTH HEIGHT (pixels from the top-left corner).
    Rect {
        #[command(flatten)]
        bounds: Bounds,
        #[command(flatten)]
        canvas: Canvas,
        #[command(flatten)]
        finish: Finish,
    },
    /// The ellipse inscribed in the box X Y WIDTH HEIGHT.
    Ellipse {
        #[command(flatten)]
        bounds: Bounds,
        #[command(flatten)]
        canvas: Canvas,
        #[command(flatten)]
        finish: Finish,
    },
    /// The polygon through three or more points X,Y.
    Polygon {
        /// The corners, as X,Y pixel positions.
        #[arg(value_name = "X,Y", required = true, num_args = 3.., value_parser = crate::parse::point)]
        points: Vec<(f32, f32)>,
        #[command(flatten)]
        canvas: Canvas,
        #[command(flatten)]
        finish: Finish,
    },
    /// A brush stroke through the points X,Y (one point paints a dot).
    Stroke {
        /// The points the brush passes through, as X,Y pixel positions.
        #[arg(value_name = "X,Y", required = true, value_parser = crate::parse::point)]
        points: Vec<(f32, f32)>,
        /// Brush radius in pixels.
        #[arg(long, value_name = "PX", default_value_t = 10.0)]
        radius: f32,
        #[command(flatten)]
        canvas: Canvas,
        #[command(flatten)]
        finish: Finish,
    },
    /// The pixels of IMAGE at least as bright as --level (a white-on-black drawing, a segmentation map).
    Threshold {
        /// The image to threshold; the mask gets its size.
        #[arg(value_name = "IMAGE")]
        image: PathBuf,
        /// Luminance from which a pixel is edited (0-255).
        #[arg(long, value_name = "LEVEL", default_value_t = 128)]
        level: u8,
        #[command(flatten)]
        finish: Finish,
    },
}

/// A box: X Y WIDTH HEIGHT.
#[derive(Debug, Args)]
pub struct Bounds {
    /// Left edge, in pixels.
    #[arg(value_name = "X")]
    x: u32,
    /// Top edge, in pixels.
    #[arg(value_name = "Y")]
    y: u32,
    /// Width, in pixels.
    #[arg(value_name = "WIDTH")]
    width: u32,
    /// Height, in pixels.
    #[arg(value_name = "HEIGHT")]
    height: u32,
}

/// The mask's size: given, or that of an image.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Canvas {
    /// The mask's size, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", value_parser = crate::parse::size)]
    size: Option<Size>,
    /// Make the mask the size of this image (after its EXIF rotation, as providers see it).
    #[arg(long, value_name = "IMAGE")]
    like: Option<PathBuf>,
}

/// What is done to the shape, and where it is written.
#[derive(Debug, Args)]
pub struct Finish {
    /// Grow the edit area by this many pixels.
    #[arg(long, value_name = "PX", conflicts_with = "shrink")]
    grow: Option<u32>,
    /// Shrink the edit area by this many pixels.
    #[arg(long, value_name = "PX")]
    shrink: Option<u32>,
    /// Edit everything except the shape.
    #[arg(long)]
    invert: bool,
    /// Soften the edge with a Gaussian blur of this sigma, in pixels.
    #[arg(long, value_name = "SIGMA", value_parser = feather_sigma)]
    feather: Option<f32>,
    /// How the file marks the edit area: transparent (alpha 0, what msgflux and OpenAI take),
    /// white (Stable Diffusion, FLUX fill) or black.
    #[arg(long, value_enum, default_value_t = Convention::Transparent)]
    convention: Convention,
    /// The mask file to write (PNG).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: PathBuf,
}

/// `--convention`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Convention {
    /// Transparent (alpha 0) = edit, opaque = keep.
    Transparent,
    /// White = edit, black = keep.
    White,
    /// Black = edit, white = keep.
    Black,
}

impl From<Convention> for MaskConvention {
    fn from(convention: Convention) -> Self {
        match convention {
            Convention::Transparent => MaskConvention::TransparentIsEdit,
            Convention::White => MaskConvention::WhiteIsEdit,
            Convention::Black => MaskConvention::BlackIsEdit,
        }
    }
}

fn feather_sigma(raw: &str) -> std::result::Result<f32, String> {
    match raw.trim().parse::<f32>() {
        Ok(sigma) if sigma.is_finite() && sigma > 0.0 && sigma <= 500.0 => Ok(sigma),
        _ => Err(format!(
            "expected a blur sigma in pixels above 0 and at most 500, got `{raw}`"
        )),
    }
}

/// Draws the mask and writes it.
pub fn run(args: MaskArgs, output: &Output) -> Result<Exit> {
    let (mask, finish) = match args.shape {
        Shape::Rect { bounds, canvas, finish } => {
            let size = canvas.size()?;
            (Mask::rectangle(size.width, size.height, bounds.rect()), finish)
        }
        Shape::Ellipse { bounds, canvas, finish } => {
            let size = canvas.size()?;
            (Mask::ellipse(size.width, size.height, bounds.rect()), finish)
        }
        Shape::Polygon { points, canvas, finish } => {
            let size = canvas.size()?;
            (Mask::polygon(size.width, size.height, &points), finish)
        }
        Shape::Stroke {
            points,
            radius,
            canvas,
            finish,
        } => {
            if !(radius.is_finite() && radius > 0.0) {
                return Err(Error::invalid(
                    "radius",
                    format!("must be above 0 pixels, got {radius}"),
                ));
            }
            let size = canvas.size()?;
            (
                Mask::strokes(size.width, size.height, &[Stroke::new(points, radius)]),
                finish,
            )
        }
        Shape::Threshold { image, level, finish } => {
            let decoded = decode_image(&image, "image")?;
            (Mask::threshold(&decoded.image, level), finish)
        }
    };
    finish.apply_and_write(mask, output)
}

impl Bounds {
    fn rect(&self) -> Rect {
        Rect::new(self.x, self.y, self.width, self.height)
    }
}

impl Canvas {
    fn size(&self) -> Result<Size> {
        match (&self.size, &self.like) {
            (Some(size), _) => Ok(*size),
            (None, Some(path)) => Ok(decode_image(path, "like")?.size()),
            (None, None) => Err(Error::invalid("size", "give --size WxH or --like IMAGE")),
        }
    }
}

impl Finish {
    fn apply_and_write(&self, mut mask: Mask, output: &Output) -> Result<Exit> {
        if let Some(px) = self.grow {
            mask = mask.dilate(px);
        }
        if let Some(px) = self.shrink {
            mask = mask.erode(px);
        }
        if self.invert {
            mask = mask.invert();
        }
        if let Some(sigma) = self.feather {
            mask = mask.feather(sigma);
        }
        if mask.is_empty() {
            return Err(Error::invalid(
                "mask",
                format!(
                    "the {} mask edits no pixel: the shape lies outside it (or was shrunk away); nothing was written",
                    mask.size()
                ),
            ));
        }
        let convention = MaskConvention::from(self.convention);
        let png = mask.to_png(convention)?;
        files::write_file_now(&self.out, &png)?;

        let fraction = mask.edit_fraction();
        if mask.is_full() {
            output.warn("the mask edits every pixel: a provider may change the whole image");
        }
        output.line(self.out.display().to_string());
        output.note(format!(
            "mask {}: {:.1}% of the pixels to edit ({convention})",
            mask.size(),
            fraction * 100.0
        ));
        output.document(&json!({
            "path": self.out,
            "width": mask.width(),
            "height": mask.height(),
            "edit_fraction": fraction,
            "convention": convention,
            "bounding_box": mask.bounding_box().map(|r| json!({ "x": r.x, "y": r.y, "width": r.width, "height": r.height })),
        }));
        Ok(Exit::Success)
    }
}

/// Decodes an image file within the default safety limits, upright (EXIF rotation applied).
fn decode_image(path: &Path, what: &str) -> Result<Decoded> {
    let bytes = files::read_input(path, what)?;
    decode(&bytes, &DecodeLimits::default(), what)
}
