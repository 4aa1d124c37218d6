//! A PNG's rows, decoded from the top on another thread and taken on
//! demand, holding a window of them: prepare's streamed path scales a
//! large PNG band by band without its whole decoded image in memory, and
//! scales while the next rows are inflated (docs/benchmarks/image.md).

use std::io::Cursor;
use std::sync::mpsc;

use msgflux_core::{DecodeLimits, Size};

use crate::held_rows::HeldRows;
use crate::resize::Layout;

/// Rows decoded per hand-over to the scaling thread.
const ROWS_PER_CHUNK: usize = 16;
/// Chunks the decoding thread may run ahead: a few tens of rows, not the image.
const CHUNKS_AHEAD: usize = 4;

/// A plain 8-bit PNG (after palette and low bit depths are expanded, as
/// [`decode`](crate::decode) does), opened for its rows.
pub(crate) struct PngFile<'a> {
    reader: png::Reader<Cursor<&'a [u8]>>,
    /// The colour of the rows the reader gives.
    colour: png::ColorType,
    size: Size,
}

impl<'a> PngFile<'a> {
    /// Reads `bytes`' header, or gives `None` when the file is not one
    /// whose rows are read the same way as the whole-image decode reads
    /// them: interlaced, animated, 16-bit, with EXIF (an orientation to
    /// apply), unreadable, or outside `limits`. The caller then decodes it
    /// whole, which reports any error.
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
            && reader
                .output_buffer_size()
                .is_some_and(|bytes| limits.admits(size.width, size.height, bytes as u64));
        let (colour, depth) = reader.output_color_type();
        if !plain || !within || depth != png::BitDepth::Eight || colour == png::ColorType::Indexed {
            return None;
        }
        Some(Self { reader, colour, size })
    }

    /// The image's size.
    pub(crate) fn size(&self) -> Size {
        self.size
    }

    /// RGB, or RGBA when the file has alpha (or a transparent colour); grey
    /// is widened to RGB, as the whole-image path converts it.
    pub(crate) fn layout(&self) -> Layout {
        match self.colour {
            png::ColorType::GrayscaleAlpha | png::ColorType::Rgba => Layout::Rgba,
            _ => Layout::Rgb,
        }
    }

    /// Decodes the rows on another thread while `work` takes them from the
    /// top on this one ([`PngRows::decode_until`]). When `work` returns
    /// before the last row, the decoding stops.
    pub(crate) fn decode_with<T>(self, work: impl FnOnce(&mut PngRows) -> T) -> T {
        let (size, layout) = (self.size, self.layout());
        let row_bytes = size.width as usize * layout.channels();
        std::thread::scope(|scope| {
            let (rows_tx, rows_rx) = mpsc::sync_channel::<Option<Vec<u8>>>(CHUNKS_AHEAD);
            let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
            scope.spawn(move || decode_rows(self, row_bytes, &rows_tx, &free_rx));
            let mut rows = PngRows {
                rows_rx,
                free_tx,
                size,
                layout,
                held: HeldRows::new(row_bytes, 0),
                failed: false,
            };
            work(&mut rows)
            // `rows` is dropped here: a decoder still running stops at its next send.
        })
    }
}

/// The decoding thread: chunks of rows, widened to RGB or RGBA, until the
/// last row, a row that cannot be read (`None`), or the taker is gone.
fn decode_rows(
    mut file: PngFile<'_>,
    row_bytes: usize,
    rows_tx: &mpsc::SyncSender<Option<Vec<u8>>>,
    free_rx: &mpsc::Receiver<Vec<u8>>,
) {
    let mut left = file.size.height as usize;
    while left > 0 {
        let mut chunk = free_rx.try_recv().unwrap_or_default();
        chunk.clear();
        chunk.reserve(row_bytes * ROWS_PER_CHUNK.min(left));
        for _ in 0..ROWS_PER_CHUNK.min(left) {
            let Ok(Some(row)) = file.reader.next_row() else {
                // The taker may be gone already; either way this is the end.
                let _ = rows_tx.send(None);
                return;
            };
            let row = row.data();
            match file.colour {
                png::ColorType::Grayscale => chunk.extend(row.iter().flat_map(|&v| [v, v, v])),
                png::ColorType::GrayscaleAlpha => {
                    chunk.extend(row.chunks_exact(2).flat_map(|va| [va[0], va[0], va[0], va[1]]))
                }
                _ => chunk.extend_from_slice(row),
            }
            left -= 1;
        }
        if rows_tx.send(Some(chunk)).is_err() {
            return;
        }
    }
}

/// The rows of a [`PngFile`] being decoded, RGB or RGBA, a window of them held.
pub(crate) struct PngRows {
    rows_rx: mpsc::Receiver<Option<Vec<u8>>>,
    /// Chunks handed back for the decoder to fill again.
    free_tx: mpsc::Sender<Vec<u8>>,
    size: Size,
    layout: Layout,
    held: HeldRows,
    failed: bool,
}

impl PngRows {
    /// The image's size.
    pub(crate) fn size(&self) -> Size {
        self.size
    }

    /// RGB or RGBA ([`PngFile::layout`]).
    pub(crate) fn layout(&self) -> Layout {
        self.layout
    }

    /// Whether a row could not be read: what was made from the rows is then
    /// dropped, and the caller decodes the file whole.
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    /// Takes rows until at least `rows` (at most the height) are done, and
    /// gives the first row still held and the rows from it on.
    pub(crate) fn decode_until(&mut self, rows: u32) -> Result<(u32, &[u8]), &'static str> {
        while !self.failed && self.held.done() < rows.min(self.size.height) {
            match self.rows_rx.recv() {
                Ok(Some(chunk)) => {
                    self.held.extend(&chunk);
                    // The decoder may be done already; the chunk is then dropped.
                    let _ = self.free_tx.send(chunk);
                }
                Ok(None) | Err(_) => self.failed = true,
            }
        }
        if self.failed {
            return Err("a row of the PNG could not be read");
        }
        Ok(self.held.window())
    }

    /// Lets go of the rows above `row`.
    pub(crate) fn forget_before(&mut self, row: u32) {
        self.held.forget_before(row);
    }
}
