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

/// MCU rows decoded ahead of the pixel thread: enough to ride out an
/// uneven row, few enough to keep memory small (a row of the 12 MP photo
/// is 200 KB of coefficients).
const ROWS_AHEAD: usize = 4;

/// Decodes a JPEG at half scale, or says why not.
///
/// The caller has checked the size against its limits: the pixel buffer is
/// a quarter of the full image's.
pub(crate) fn decode_half(data: &[u8]) -> Result<HalfScale, Unreadable> {
    let header = header::read(data)?;
    let layout = Layout::new(&header)?;
    let width = header.width.div_ceil(2);
    let height = header.height.div_ceil(2);
    let channels = header.components.len();
    let mut pixels = vec![0u8; width as usize * height as usize * channels];
    let coefficients_len = layout.blocks_per_row * 64;
    let basis = idct::Basis::new();
    let mut planes = colour::Planes::new(&layout);

    std::thread::scope(|scope| {
        let (rows_tx, rows_rx) = mpsc::sync_channel::<Result<Vec<i16>, Unreadable>>(ROWS_AHEAD);
        let (free_tx, free_rx) = mpsc::channel::<Vec<i16>>();
        let mut scan = ScanDecoder::new(data, &header, layout.clone())?;
        let rows = layout.mcu_rows;
        scope.spawn(move || {
            for _ in 0..rows {
                let mut buffer = free_rx.try_recv().unwrap_or_else(|_| vec![0; coefficients_len]);
                let row = scan.decode_row(&mut buffer).map(|()| buffer);
                let failed = row.is_err();
                // A closed channel means the pixel side gave up: stop too.
                if rows_tx.send(row).is_err() || failed {
                    return;
                }
            }
        });
        let row_bytes = width as usize * channels;
        for (mcu_row, band) in pixels.chunks_mut(row_bytes * layout.plane_h).enumerate() {
            let mut coefficients = match rows_rx.recv() {
                Ok(row) => row?,
                Err(_) => return Err(Unreadable("the entropy decoder stopped")),
            };
            debug_assert!(mcu_row < rows);
            planes.fill(&layout, &header.quant, &basis, &mut coefficients);
            planes.convert(band, width as usize);
            // The other side may be done already; the buffer is then dropped.
            let _ = free_tx.send(coefficients);
        }
        Ok(())
    })?;
    Ok(HalfScale {
        width,
        height,
        channels,
        pixels,
    })
}

#[cfg(test)]
mod tests;
