//! A PNG's rows, decoded from the top on demand, holding a window of them:
//! prepare's streamed path scales a large PNG band by band without its
//! whole decoded image in memory (docs/benchmarks/image.md).

use std::io::Cursor;

use msgflux_core::{DecodeLimits, Size};

use crate::resize::Layout;

/// The rows of a plain 8-bit PNG (after palette and low bit depths are
/// expanded, as [`decode`](crate::decode) does), as RGB or RGBA; grey is
/// widened to RGB, as the whole-image path converts it.
pub(crate) struct PngRows<'a> {
    reader: png::Reader<Cursor<&'a [u8]>>,
    /// The colour of the rows the reader gives.
    colour: png::ColorType,
    size: Size,
    /// Rows `first..done`, RGB or RGBA.
    pixels: Vec<u8>,
    first: u32,
    done: u32,
    failed: bool,
}

impl<'a> PngRows<'a> {
    /// Reads `bytes`' header and opens its rows, or gives `None` when the
    /// file is not one this reads the same way as the whole-image decode:
    /// interlaced, animated, 16-bit, with EXIF (an orientation to apply),
    /// unreadable, or outside `limits`. The caller then decodes it whole,
    /// which reports any error.
    pub(crate) fn open(bytes: &'a [u8], limits: &DecodeLimits) -> Option<Self> {
        let max_bytes = usize::try_from(limits.max_alloc).unwrap_or(usize::MAX);
        let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: max_bytes });
        decoder.set_transformations(png::Transformations::EXPAND);
        let reader = decoder.read_info().ok()?;
        let info = reader.info();
        let size = Size::new(info.width, info.height);
        let plain = !info.interlaced && info.exif_metadata.is_none() && info.animation_control.is_none();
        let within = size.width > 0
            && size.height > 0
            && size.width.max(size.height) <= limits.max_side
            && reader
                .output_buffer_size()
                .is_some_and(|bytes| bytes as u64 <= limits.max_alloc);
        let (colour, depth) = reader.output_color_type();
        if !plain || !within || depth != png::BitDepth::Eight || colour == png::ColorType::Indexed {
            return None;
        }
        Some(Self {
            reader,
            colour,
            size,
            pixels: Vec::new(),
            first: 0,
            done: 0,
            failed: false,
        })
    }

    /// The image's size.
    pub(crate) fn size(&self) -> Size {
        self.size
    }

    /// RGB, or RGBA when the file has alpha (or a transparent colour).
    pub(crate) fn layout(&self) -> Layout {
        match self.colour {
            png::ColorType::GrayscaleAlpha | png::ColorType::Rgba => Layout::Rgba,
            _ => Layout::Rgb,
        }
    }

    /// Whether a row could not be read: what was made from the rows is then
    /// dropped, and the caller decodes the file whole.
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    /// Decodes rows until at least `rows` (at most the height) are done, and
    /// gives the first row still held and the rows from it on.
    pub(crate) fn decode_until(&mut self, rows: u32) -> Result<(u32, &[u8]), &'static str> {
        while !self.failed && self.done < rows.min(self.size.height) {
            match self.reader.next_row() {
                Ok(Some(row)) => {
                    let row = row.data();
                    match self.colour {
                        png::ColorType::Grayscale => self.pixels.extend(row.iter().flat_map(|&v| [v, v, v])),
                        png::ColorType::GrayscaleAlpha => self
                            .pixels
                            .extend(row.chunks_exact(2).flat_map(|va| [va[0], va[0], va[0], va[1]])),
                        _ => self.pixels.extend_from_slice(row),
                    }
                    self.done += 1;
                }
                Ok(None) | Err(_) => self.failed = true,
            }
        }
        if self.failed {
            return Err("a row of the PNG could not be read");
        }
        Ok((self.first, &self.pixels))
    }

    /// Lets go of the rows above `row`.
    pub(crate) fn forget_before(&mut self, row: u32) {
        let row = row.clamp(self.first, self.done);
        let row_bytes = self.size.width as usize * self.layout().channels();
        self.pixels.drain(..(row - self.first) as usize * row_bytes);
        self.first = row;
    }
}
