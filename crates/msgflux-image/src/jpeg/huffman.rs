//! Huffman tables: one lookup for codes up to [`LOOKUP_BITS`] long (nearly
//! every symbol of a photo), a search by length for the rest.

use super::Unreadable;
use super::bits::BitReader;

/// Codes this long or shorter are found with one table lookup, and AC
/// codes with their value when both fit (11 rather than 10: 138 against
/// 143 ms of CPU for the 12 MP job, medians of 20 interleaved runs).
const LOOKUP_BITS: u32 = 11;

/// A decoding table built from a DHT segment.
#[derive(Clone)]
pub(crate) struct HuffmanTable {
    /// Indexed by the next `LOOKUP_BITS` bits: code length << 8 | symbol,
    /// or 0 when the code is longer.
    lookup: Box<[u16; 1 << LOOKUP_BITS]>,
    /// Indexed by the next `LOOKUP_BITS` bits, for an AC table: a code and
    /// the value bits after it when both fit, packed as value << 16 |
    /// run << 8 | bits to consume; 0 otherwise (and for EOB and ZRL).
    fast_ac: Box<[i32; 1 << LOOKUP_BITS]>,
    /// For each length 1..=16: the largest code of that length plus one,
    /// left-aligned in 16 bits (0 when there is none).
    limit: [u32; 17],
    /// For each length: the symbol index of its first code, less that code.
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl HuffmanTable {
    /// `counts[i]` codes of length `i + 1`, whose symbols are `symbols`, in order.
    pub(super) fn new(counts: &[u8; 16], symbols: &[u8]) -> Result<Self, Unreadable> {
        let mut lookup = Box::new([0u16; 1 << LOOKUP_BITS]);
        let mut limit = [0u32; 17];
        let mut offset = [0i32; 17];
        let mut code = 0u32;
        let mut index = 0usize;
        for len in 1..=16u32 {
            let n = u32::from(counts[len as usize - 1]);
            offset[len as usize] = index as i32 - code as i32;
            if code + n > 1 << len {
                return Err(Unreadable("a Huffman table with more codes than its lengths allow"));
            }
            for _ in 0..n {
                let symbol = symbols[index];
                if len <= LOOKUP_BITS {
                    let shift = LOOKUP_BITS - len;
                    let first = (code << shift) as usize;
                    for entry in &mut lookup[first..first + (1 << shift)] {
                        *entry = (len as u16) << 8 | u16::from(symbol);
                    }
                }
                code += 1;
                index += 1;
            }
            limit[len as usize] = if n == 0 { 0 } else { code << (16 - len) };
            code <<= 1;
        }
        let fast_ac = Box::new(std::array::from_fn(|bits| fast_ac_entry(lookup[bits], bits as u32)));
        Ok(Self {
            fast_ac,
            lookup,
            limit,
            offset,
            symbols: symbols.to_vec(),
        })
    }

    /// Decodes one symbol; the reader must hold at least 16 bits.
    #[inline(always)]
    pub(super) fn decode(&self, bits: &mut BitReader<'_>) -> Result<u8, Unreadable> {
        let entry = self.lookup[bits.peek(LOOKUP_BITS) as usize];
        if entry != 0 {
            bits.consume(u32::from(entry >> 8));
            return Ok(entry as u8);
        }
        self.decode_long(bits)
    }

    /// An AC code and its value in one lookup, when both fit in the next
    /// `LOOKUP_BITS` bits: (run of zeros, value), consumed. The reader must
    /// hold at least 16 bits; on `None` nothing is consumed.
    #[inline(always)]
    pub(super) fn decode_ac_fast(&self, bits: &mut BitReader<'_>) -> Option<(usize, i32)> {
        let entry = self.fast_ac[bits.peek(LOOKUP_BITS) as usize];
        if entry == 0 {
            return None;
        }
        bits.consume((entry & 0xFF) as u32);
        Some(((entry >> 8 & 0xFF) as usize, entry >> 16))
    }

    #[cold]
    fn decode_long(&self, bits: &mut BitReader<'_>) -> Result<u8, Unreadable> {
        let next = bits.peek(16);
        for len in LOOKUP_BITS + 1..=16 {
            let code = next >> (16 - len);
            if self.limit[len as usize] != 0 && (code << (16 - len)) < self.limit[len as usize] {
                let index = self.offset[len as usize] + code as i32;
                let symbol = usize::try_from(index)
                    .ok()
                    .and_then(|i| self.symbols.get(i))
                    .ok_or(Unreadable("a code outside the Huffman table"))?;
                bits.consume(len);
                return Ok(*symbol);
            }
        }
        Err(Unreadable("a bit pattern that is no Huffman code"))
    }
}

/// The fast AC entry for the `LOOKUP_BITS` bits `bits`, whose code lookup is `code`.
fn fast_ac_entry(code: u16, bits: u32) -> i32 {
    let (len, symbol) = (u32::from(code >> 8), code as u8);
    let (run, size) = (i32::from(symbol >> 4), u32::from(symbol & 15));
    if len == 0 || size == 0 || len + size > LOOKUP_BITS {
        return 0;
    }
    let raw = (bits >> (LOOKUP_BITS - len - size)) as i32 & ((1 << size) - 1);
    let value = if raw < 1 << (size - 1) {
        raw - (1 << size) + 1
    } else {
        raw
    };
    value << 16 | run << 8 | (len + size) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: &[u8]) -> BitReader<'_> {
        let mut r = BitReader::new(bytes);
        r.refill();
        r
    }

    #[test]
    fn short_and_long_codes_decode_to_their_symbols() {
        // Lengths: two of 2 bits (00, 01), one of 3 (100), one of 12 (1010 0000 0000).
        let mut counts = [0u8; 16];
        counts[1] = 2;
        counts[2] = 1;
        counts[11] = 1;
        let table = HuffmanTable::new(&counts, &[7, 9, 3, 42]).unwrap();
        // 01 | 100 | 1010 0000 0000 | 00 -> 9, 3, 42, 7: 19 bits, left-aligned.
        let codes = [(0b01, 2), (0b100, 3), (0b1010_0000_0000, 12), (0b00, 2)];
        let (value, len) = codes.iter().fold((0u32, 0u32), |(v, l), &(c, n)| (v << n | c, l + n));
        let bits = value << (32 - len);
        let bytes = [bits.to_be_bytes().as_slice(), &[0; 8]].concat();
        let mut r = reader(&bytes);
        let decoded: Vec<u8> = (0..4).map(|_| table.decode(&mut r).unwrap()).collect();
        assert_eq!(decoded, [9, 3, 42, 7]);
    }

    #[test]
    fn a_short_code_and_its_value_decode_in_one_lookup_as_in_two() {
        // 0 -> run 0 and a value as long as the lookup (too long to be fast);
        // 10 -> run 2, size 3, here with value bits 010 (-5).
        let mut counts = [0u8; 16];
        counts[0] = 1;
        counts[1] = 1;
        let table = HuffmanTable::new(&counts, &[LOOKUP_BITS as u8, 0x23]).unwrap();
        let bytes = [0b1001_0000, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut fast = reader(&bytes);
        assert_eq!(table.decode_ac_fast(&mut fast), Some((2, -5)));
        let mut slow = reader(&bytes);
        let symbol = table.decode(&mut slow).unwrap();
        assert_eq!((symbol >> 4, slow.receive_extend(u32::from(symbol & 15))), (2, -5));
        assert_eq!(fast.available(), slow.available());
        let long = [0b0100_0000, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(table.decode_ac_fast(&mut reader(&long)), None);
    }

    #[test]
    fn too_many_codes_for_a_length_are_refused() {
        let mut counts = [0u8; 16];
        counts[0] = 3;
        assert!(HuffmanTable::new(&counts, &[1, 2, 3]).is_err());
    }

    #[test]
    fn a_pattern_outside_the_table_is_an_error_not_a_panic() {
        let mut counts = [0u8; 16];
        counts[0] = 1;
        let table = HuffmanTable::new(&counts, &[5]).unwrap();
        let mut r = reader(&[0xFF, 0x00, 0xFF, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(table.decode(&mut r).is_err());
    }
}
