//! The entropy-coded bit stream: bytes with 0xFF stuffing, read into a
//! 64-bit buffer several bytes at a time (jpeg-decoder reads a byte at a
//! time, a large part of its time on the benchmark photo).

/// Bits of one scan, most significant first.
pub(super) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// The next bits, left-aligned: the top `count` bits are valid.
    buf: u64,
    count: u32,
    /// Zero bits appended after a marker or the end of the data; when fewer
    /// bits than these remain, the decoder has read past the real data.
    padding: u32,
    at_marker: bool,
}

/// Whether any byte of `word` is 0xFF.
fn has_ff_byte(word: u64) -> bool {
    let inverted = !word;
    (inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080) != 0
}

impl<'a> BitReader<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            buf: 0,
            count: 0,
            padding: 0,
            at_marker: false,
        }
    }

    /// Tops the buffer up to at least 57 bits.
    #[inline(always)]
    pub(super) fn refill(&mut self) {
        if self.count > 56 {
            return;
        }
        // Whole bytes that fit, read at once when none of the next eight is 0xFF.
        if !self.at_marker
            && let Some(chunk) = self.data.get(self.pos..self.pos + 8)
        {
            let word = u64::from_be_bytes(chunk.try_into().unwrap_or([0; 8]));
            if !has_ff_byte(word) {
                let bytes = (63 - self.count) / 8;
                let filled = self.count + bytes * 8;
                self.buf = (self.buf | (word >> self.count)) & !(u64::MAX >> filled);
                self.count = filled;
                self.pos += bytes as usize;
                return;
            }
        }
        while self.count <= 56 {
            let byte = self.next_byte();
            self.buf |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    #[inline]
    fn next_byte(&mut self) -> u8 {
        if !self.at_marker {
            match self.data.get(self.pos..self.pos + 2) {
                Some([0xFF, 0x00]) => {
                    self.pos += 2;
                    return 0xFF;
                }
                Some([0xFF, _]) => self.at_marker = true,
                _ => match self.data.get(self.pos) {
                    Some(&b) if b != 0xFF => {
                        self.pos += 1;
                        return b;
                    }
                    _ => self.at_marker = true,
                },
            }
        }
        self.padding += 8;
        0
    }

    /// The next `n` bits (1..=32) without consuming them; needs `count >= n`
    /// for real data (see [`refill`](Self::refill)).
    #[inline(always)]
    pub(super) fn peek(&self, n: u32) -> u32 {
        (self.buf >> (64 - n)) as u32
    }

    #[inline(always)]
    pub(super) fn consume(&mut self, n: u32) {
        self.buf <<= n;
        self.count -= n;
    }

    /// Bits in the buffer; at least 57 right after a refill.
    #[inline(always)]
    pub(super) fn available(&self) -> u32 {
        self.count
    }

    /// `n` bits (0..=16) as a signed coefficient value (JPEG's EXTEND).
    #[inline(always)]
    pub(super) fn receive_extend(&mut self, n: u32) -> i32 {
        if n == 0 {
            return 0;
        }
        let v = self.peek(n) as i32;
        self.consume(n);
        if v < 1 << (n - 1) { v - (1 << n) + 1 } else { v }
    }

    /// True when bits past the end of the real data have been consumed.
    pub(super) fn overran(&self) -> bool {
        self.count < self.padding
    }

    /// At a restart interval's end: drops the rest of the byte, skips the
    /// RSTn marker (resynchronising on the next one if data is left over),
    /// and starts afresh.
    pub(super) fn restart(&mut self) -> bool {
        if self.overran() {
            return false;
        }
        self.buf = 0;
        self.count = 0;
        self.padding = 0;
        self.at_marker = false;
        while let Some(&b) = self.data.get(self.pos) {
            self.pos += 1;
            if b != 0xFF {
                continue;
            }
            while self.data.get(self.pos) == Some(&0xFF) {
                self.pos += 1;
            }
            match self.data.get(self.pos) {
                Some(0xD0..=0xD7) => {
                    self.pos += 1;
                    return true;
                }
                Some(0x00) => self.pos += 1,
                // Another marker (EOI, or damage): not a restart.
                _ => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stuffed_ff_reads_as_one_ff_byte() {
        let data = [0xFF, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0];
        let mut r = BitReader::new(&data);
        r.refill();
        assert_eq!(r.peek(16), 0xFF12);
        r.consume(16);
        r.refill();
        assert_eq!(r.peek(32), 0x3456_789A);
        assert!(!r.overran());
    }

    #[test]
    fn the_fast_refill_and_the_byte_refill_read_the_same_bits() {
        let data: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37)).collect();
        let mut r = BitReader::new(&data);
        let mut bits = Vec::new();
        for step in [1u32, 7, 13, 16, 3, 11, 9, 16, 5, 2, 15, 8, 12, 16, 16, 10, 6, 4, 14, 16] {
            r.refill();
            bits.push((r.peek(step), step));
            r.consume(step);
        }
        let mut expected = Vec::new();
        let mut at = 0usize;
        for &(_, step) in &bits {
            let mut v = 0u32;
            for i in at..at + step as usize {
                v = v << 1 | u32::from(data[i / 8] >> (7 - i % 8) & 1);
            }
            expected.push((v, step));
            at += step as usize;
        }
        assert_eq!(bits, expected);
    }

    #[test]
    fn reading_past_a_marker_counts_as_an_overrun() {
        let data = [0xAB, 0xFF, 0xD9];
        let mut r = BitReader::new(&data);
        r.refill();
        assert_eq!(r.peek(8), 0xAB);
        r.consume(8);
        assert!(!r.overran());
        r.consume(1);
        assert!(r.overran());
    }

    #[test]
    fn a_restart_skips_the_marker_and_the_rest_of_the_byte() {
        let data = [0b1010_0000, 0xFF, 0xD0, 0x5A, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut r = BitReader::new(&data);
        r.refill();
        r.consume(3);
        assert!(r.restart());
        r.refill();
        assert_eq!(r.peek(8), 0x5A);
    }

    #[test]
    fn a_restart_where_another_marker_stands_fails() {
        let data = [0x00, 0xFF, 0xD9];
        let mut r = BitReader::new(&data);
        r.refill();
        r.consume(8);
        assert!(!r.restart());
    }

    #[test]
    fn extend_gives_negative_values_for_a_leading_zero_bit() {
        let data = [0b0101_1000, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut r = BitReader::new(&data);
        r.refill();
        assert_eq!(r.receive_extend(3), -5);
        assert_eq!(r.receive_extend(2), 3);
        assert_eq!(r.receive_extend(0), 0);
    }
}
