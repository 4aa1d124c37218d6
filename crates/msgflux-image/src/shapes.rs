//! Mask builders: shapes drawn with anti-aliased edges, and masks read from images.

use image::{GrayImage, Luma};

use crate::geometry::Rect;
use crate::mask::Mask;

impl Mask {
    /// Edits the pixels inside `rect` (clipped to the mask); keeps the rest.
    ///
    /// ```
    /// let mask = msgflux_image::Mask::rectangle(10, 10, msgflux_image::Rect::new(2, 3, 4, 5));
    /// assert!(mask.is_edit(2, 3) && mask.is_edit(5, 7) && !mask.is_edit(6, 7));
    /// ```
    pub fn rectangle(width: u32, height: u32, rect: Rect) -> Self {
        let strength = GrayImage::from_fn(width, height, |x, y| Luma([if rect.contains(x, y) { 255 } else { 0 }]));
        Self::from_strength(strength)
    }
}
