//! Sizes: [`Size`] (width x height) and [`OutputSize`], the size a request
//! asks for (an exact one, or `auto`: the model picks).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Output dimensions, `width x height`.
///
/// ```
/// let size: msgflux_core::Size = "1536x1024".parse().unwrap();
/// assert_eq!((size.width, size.height), (1536, 1024));
/// assert_eq!(size.to_string(), "1536x1024");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Size {
    /// A size.
    pub const fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }

    /// A square size.
    pub const fn square(side: u32) -> Self {
        Self::new(side, side)
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

impl FromStr for Size {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid("size", format!("expected WIDTHxHEIGHT such as 1024x1024, got `{s}`"));
        let (w, h) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
        let width: u32 = w.trim().parse().map_err(|_| bad())?;
        let height: u32 = h.trim().parse().map_err(|_| bad())?;
        if width == 0 || height == 0 {
            return Err(bad());
        }
        Ok(Self::new(width, height))
    }
}

/// The output size a request asks for.
///
/// `auto` lets the model choose (GPT image models pick from the input's
/// shape; fill models keep the input size). A model whose size is always
/// one of a fixed list with a fixed default (dall-e-2) refuses `auto`.
///
/// ```
/// use msgflux_core::{OutputSize, Size};
/// assert_eq!("auto".parse::<OutputSize>().unwrap(), OutputSize::Auto);
/// assert_eq!("512x512".parse::<OutputSize>().unwrap(), OutputSize::Exact(Size::square(512)));
/// assert_eq!(OutputSize::from(Size::new(1536, 1024)).to_string(), "1536x1024");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputSize {
    /// The model picks the size.
    Auto,
    /// Exactly this size.
    Exact(Size),
}

impl OutputSize {
    /// The exact size, when one was asked for.
    pub fn exact(self) -> Option<Size> {
        match self {
            Self::Auto => None,
            Self::Exact(size) => Some(size),
        }
    }
}

impl From<Size> for OutputSize {
    fn from(size: Size) -> Self {
        Self::Exact(size)
    }
}

impl fmt::Display for OutputSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Exact(size) => size.fmt(f),
        }
    }
}

impl FromStr for OutputSize {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s.trim().eq_ignore_ascii_case("auto") {
            return Ok(Self::Auto);
        }
        s.parse::<Size>().map(Self::Exact).map_err(|_| {
            Error::invalid(
                "size",
                format!("expected WIDTHxHEIGHT such as 1024x1024, or auto, got `{s}`"),
            )
        })
    }
}
