//! The rows `first..done` of an image being decoded from the top: what a
//! streamed decoder (our half-scale JPEG decoder, a PNG's rows) holds, so
//! a caller that is done with the rows above a band can let go of them.

/// Rows `first..done`, `row_bytes` each, contiguous.
pub(crate) struct HeldRows {
    pixels: Vec<u8>,
    row_bytes: usize,
    first: u32,
    done: u32,
}

impl HeldRows {
    /// No rows yet, with room reserved for `capacity_rows`.
    pub(crate) fn new(row_bytes: usize, capacity_rows: usize) -> Self {
        Self {
            pixels: Vec::with_capacity(row_bytes * capacity_rows),
            row_bytes,
            first: 0,
            done: 0,
        }
    }

    /// The first row still held.
    pub(crate) fn first(&self) -> u32 {
        self.first
    }

    /// Rows finished so far.
    pub(crate) fn done(&self) -> u32 {
        self.done
    }

    /// Adds `rows` rows after the last, zeroed, for the caller to fill.
    pub(crate) fn grow(&mut self, rows: u32) -> &mut [u8] {
        let start = self.pixels.len();
        self.pixels.resize(start + rows as usize * self.row_bytes, 0);
        self.done += rows;
        &mut self.pixels[start..]
    }

    /// Adds the whole rows in `rows` after the last.
    pub(crate) fn extend(&mut self, rows: &[u8]) {
        self.pixels.extend_from_slice(rows);
        self.done += (rows.len() / self.row_bytes) as u32;
    }

    /// The first row still held and the rows from it on.
    pub(crate) fn window(&self) -> (u32, &[u8]) {
        (self.first, &self.pixels)
    }

    /// Lets go of the rows above `row`.
    pub(crate) fn forget_before(&mut self, row: u32) {
        let row = row.clamp(self.first, self.done);
        self.pixels.drain(..(row - self.first) as usize * self.row_bytes);
        self.first = row;
    }

    /// The rows held, leaving none.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.pixels)
    }
}
