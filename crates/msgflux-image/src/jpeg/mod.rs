//! A baseline JPEG decoder that only decodes at half scale, on two threads:
//! one reads the entropy-coded data (sequential in a file without restart
//! markers, which is most of the time of a 12-megapixel photo), the other
//! turns each finished MCU row into pixels while the next is read.
//!
//! Why our own: jpeg-decoder reads bits a byte at a time and converts
//! colour only after the whole scan; libjpeg-turbo's half-scale transform
//! averages pixels and fails prepare's quality rule (docs/benchmarks/image.md,
//! "libjpeg-turbo built into prepare"). This one covers the files a camera or
//! an image library writes (baseline, 8-bit, grey or YCbCr, sampling 1 or 2,
//! restart markers or not) and refuses the rest with a reason
//! ([`Unreadable`]); the caller then decodes them another way.

mod bits;
mod colour;
mod header;
mod huffman;
mod idct;
mod scan;

use std::sync::mpsc;

use scan::{Layout, ScanDecoder};

use crate::held_rows::HeldRows;

/// Why this decoder did not decode a file: not a fault of the file
/// necessarily, only of this decoder's reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unreadable(pub(crate) &'static str);

/// A JPEG decoded at half of each side (rounded up), as stored (no EXIF
/// orientation applied).
pub(crate) struct HalfScale {
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// 1 (grey) or 3 (RGB).
    pub(crate) channels: usize,
    pub(crate) pixels: Vec<u8>,
}

/// Coefficients decoded ahead of the pixel side, in bytes: enough that the
/// entropy decoding does not wait while a band of the output is scaled
/// (about 20 MCU rows of the 12 MP photo, 200 KB each; with 4 rows it
/// waited, and streaming gained nothing: docs/benchmarks/image.md), few
/// enough to keep memory small.
const BYTES_AHEAD: usize = 4 << 20;

/// Decodes a JPEG at half scale, or says why not.
///
/// `stored` is the full size (as stored, before any EXIF rotation) that the
/// caller read from the header and checked against its limits; a frame of
/// another size is refused before anything is allocated.
pub(crate) fn decode_half(data: &[u8], stored: (u32, u32)) -> Result<HalfScale, Unreadable> {
    decode_half_with(data, stored, Rows::Whole, |rows| rows.take_whole())?
}

/// What a decode keeps of the rows it has finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    /// Every row, for [`HalfRows::take_whole`] (its buffer is allocated whole).
    Whole,
    /// The rows from the first not yet forgotten ([`HalfRows::forget_before`]).
    Window,
}

/// Decodes a JPEG at half scale while `work` takes its rows from the top
/// as they are finished ([`HalfRows::decode_until`]), on the calling
/// thread, while the entropy decoding runs on another. Gives what `work`
/// returned, or why the file could not be decoded (also when a row `work`
/// asked for could not be: what it returned is then dropped, and the
/// caller decodes the file another way). When `work` returns before the
/// last row, the entropy decoding stops.
pub(crate) fn decode_half_with<T>(
    data: &[u8],
    stored: (u32, u32),
    keep: Rows,
    work: impl FnOnce(&mut HalfRows<'_>) -> T,
) -> Result<T, Unreadable> {
    let header = header::read(data)?;
    if (header.width, header.height) != stored {
        return Err(Unreadable("the frame's size is not the one checked against the limits"));
    }
    let layout = Layout::new(&header)?;
    let basis = idct::Basis::new();
    std::thread::scope(|scope| {
        let rows_ahead = (BYTES_AHEAD / (layout.blocks_per_row * 128).max(1)).clamp(2, 64);
        let (rows_tx, rows_rx) = mpsc::sync_channel::<Result<Vec<i16>, Unreadable>>(rows_ahead);
        let (free_tx, free_rx) = mpsc::channel::<Vec<i16>>();
        let mut scan = ScanDecoder::new(data, &header, layout.clone())?;
        let (mcu_rows, coefficients_len) = (layout.mcu_rows, layout.blocks_per_row * 64);
        scope.spawn(move || {
            for _ in 0..mcu_rows {
                let mut buffer = free_rx.try_recv().unwrap_or_else(|_| vec![0; coefficients_len]);
                let row = scan.decode_row(&mut buffer).map(|()| buffer);
                let failed = row.is_err();
                // A closed channel means the pixel side gave up: stop too.
                if rows_tx.send(row).is_err() || failed {
                    return;
                }
            }
        });
        let (width, height) = (header.width.div_ceil(2), header.height.div_ceil(2));
        let channels = header.components.len();
        let row_bytes = width as usize * channels;
        let mut rows = HalfRows {
            rows_rx,
            free_tx,
            planes: colour::Planes::new(&layout),
            layout: &layout,
            quant: header.quant.map(|table| table.map(f32::from)),
            basis: &basis,
            held: HeldRows::new(row_bytes, if keep == Rows::Whole { height as usize } else { 0 }),
            width,
            height,
            channels,
            failure: None,
        };
        let result = work(&mut rows);
        match rows.failure {
            Some(failure) => Err(failure),
            None => Ok(result),
        }
    })
}

/// The rows of a half-scale decode, finished from the top on demand.
pub(crate) struct HalfRows<'a> {
    rows_rx: mpsc::Receiver<Result<Vec<i16>, Unreadable>>,
    free_tx: mpsc::Sender<Vec<i16>>,
    planes: colour::Planes,
    layout: &'a Layout,
    /// The quantisation tables, as the transform multiplies them.
    quant: [[f32; 64]; 4],
    basis: &'a idct::Basis,
    held: HeldRows,
    width: u32,
    height: u32,
    channels: usize,
    failure: Option<Unreadable>,
}

impl HalfRows<'_> {
    pub(crate) fn width(&self) -> u32 {
        self.width
    }

    pub(crate) fn height(&self) -> u32 {
        self.height
    }

    /// 1 (grey) or 3 (RGB).
    pub(crate) fn channels(&self) -> usize {
        self.channels
    }

    /// Finishes rows until at least `rows` (at most the height) are done,
    /// and gives the first row still held and the rows from it on.
    pub(crate) fn decode_until(&mut self, rows: u32) -> Result<(u32, &[u8]), Unreadable> {
        if let Some(failure) = self.failure {
            return Err(failure);
        }
        let plane_h = self.layout.plane_h as u32;
        while self.held.done() < rows.min(self.height) {
            let received = self
                .rows_rx
                .recv()
                .unwrap_or(Err(Unreadable("the entropy decoder stopped")));
            let mut coefficients = match received {
                Ok(coefficients) => coefficients,
                Err(failure) => {
                    self.failure = Some(failure);
                    return Err(failure);
                }
            };
            let band_rows = plane_h.min(self.height - self.held.done());
            self.planes
                .fill(self.layout, &self.quant, self.basis, &mut coefficients);
            self.planes.convert(self.held.grow(band_rows), self.width as usize);
            // The entropy side may be done already; the buffer is then dropped.
            let _ = self.free_tx.send(coefficients);
        }
        Ok(self.held.window())
    }

    /// Lets go of the finished rows above `row`: a caller that has used them
    /// keeps a window of rows instead of the whole image.
    pub(crate) fn forget_before(&mut self, row: u32) {
        self.held.forget_before(row);
    }

    /// The whole image: every row finished, none forgotten.
    fn take_whole(&mut self) -> Result<HalfScale, Unreadable> {
        if self.held.first() > 0 {
            return Err(Unreadable("rows of the image were let go of"));
        }
        self.decode_until(self.height)?;
        Ok(HalfScale {
            width: self.width,
            height: self.height,
            channels: self.channels,
            pixels: self.held.take(),
        })
    }
}

#[cfg(test)]
mod tests;
