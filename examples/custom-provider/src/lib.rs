//! `acme`: a third-party msgflux provider, written against `msgflux-core` only.
//!
//! It tones the masked area (alpha 0 = edit; the whole image without a mask)
//! sepia or grey. Registration is one macro call; a program that wants it
//! names the crate once (`use acme_msgflux as _;`) so the linker keeps it.
//!
//! ```
//! use acme_msgflux as _;
//! let caps = msgflux_core::Registry::global().describe("acme/sepia").unwrap();
//! assert!(!caps.honours_prompt);
//! ```

use std::io::Cursor;
use std::sync::Arc;

use image::{DynamicImage, Rgba};
use msgflux_core::kit::{EditProvider, LoadedRequest, ProviderConfig, ProviderRegistration, async_trait};
use msgflux_core::{Capabilities, EditResponse, Error, GeneratedImage, ImageData, ResponseFormat, Result};

/// The provider name.
pub const ACME_SCHEME: &str = "acme";

/// The tone an `acme` model applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Warm brown tones.
    Sepia,
    /// Shades of grey.
    Grayscale,
}

impl Tone {
    fn from_model(model: &str) -> Result<Self> {
        match model {
            "sepia" => Ok(Self::Sepia),
            "grayscale" => Ok(Self::Grayscale),
            other => Err(Error::invalid(
                "model",
                format!("acme has models sepia and grayscale, not `{other}`"),
            )),
        }
    }

    fn apply(self, px: Rgba<u8>) -> Rgba<u8> {
        let [r, g, b, a] = px.0.map(f32::from);
        let out = match self {
            Self::Sepia => [
                0.393 * r + 0.769 * g + 0.189 * b,
                0.349 * r + 0.686 * g + 0.168 * b,
                0.272 * r + 0.534 * g + 0.131 * b,
            ],
            Self::Grayscale => [0.299 * r + 0.587 * g + 0.114 * b; 3],
        };
        Rgba([
            out[0].min(255.0) as u8,
            out[1].min(255.0) as u8,
            out[2].min(255.0) as u8,
            a as u8,
        ])
    }
}

/// An `acme` model.
#[derive(Debug)]
pub struct AcmeProvider {
    model: String,
    tone: Tone,
    capabilities: Capabilities,
}

impl AcmeProvider {
    /// A provider for `sepia` or `grayscale`.
    pub fn new(model: &str) -> Result<Self> {
        Ok(Self {
            model: model.to_string(),
            tone: Tone::from_model(model)?,
            capabilities: capabilities(),
        })
    }
}

fn capabilities() -> Capabilities {
    // A deterministic filter: the prompt is not read and one variation is all there is.
    Capabilities::new().with_honours_prompt(false).with_n(1..=1)
}

#[async_trait]
impl EditProvider for AcmeProvider {
    fn name(&self) -> &str {
        ACME_SCHEME
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn capabilities(&self) -> Result<&Capabilities> {
        Ok(&self.capabilities)
    }

    async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
        let mut pixels = request.images[0].decode()?.to_rgba8();
        let mask = request
            .mask
            .as_ref()
            .map(|m| m.decode())
            .transpose()?
            .map(|m| m.to_rgba8());
        for (x, y, px) in pixels.enumerate_pixels_mut() {
            if mask.as_ref().is_none_or(|m| m.get_pixel(x, y)[3] == 0) {
                *px = self.tone.apply(*px);
            }
        }
        let mut png = Vec::new();
        DynamicImage::ImageRgba8(pixels)
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(|e| Error::decode("result", e))?;
        let data = match request.response_format {
            ResponseFormat::Url => {
                ImageData::Url(msgflux_core::LoadedImage::from_bytes(png, None, "result")?.to_data_uri())
            }
            _ => ImageData::Bytes(png.into()),
        };
        Ok(EditResponse::new(ACME_SCHEME, self.model.clone(), vec![GeneratedImage::new(data)]).with_prompt_used(false))
    }
}

fn create(model: &str, _config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(AcmeProvider::new(model)?))
}

fn describe(model: &str) -> Result<Capabilities> {
    Tone::from_model(model)?;
    Ok(capabilities())
}

/// The registration, for programs that prefer explicit
/// [`Registry::register`](msgflux_core::Registry::register) to link-time registration.
pub const ACME_REGISTRATION: ProviderRegistration =
    ProviderRegistration::new(ACME_SCHEME, env!("CARGO_PKG_NAME"), create, describe)
        .with_description("sepia and grayscale tones (third-party example)")
        .with_models(&["sepia", "grayscale"]);

msgflux_core::register_provider!(ACME_REGISTRATION);
