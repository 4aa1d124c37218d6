//! The markers before the scan: frame, quantisation and Huffman tables,
//! restart interval, Adobe colour transform. Only what a baseline,
//! single-scan JPEG of 8-bit YCbCr or grey needs is kept; anything else is
//! refused with the reason, and the caller decodes the file another way.

use super::Unreadable;
use super::huffman::HuffmanTable;

/// One component of the frame, with the tables its scan names.
#[derive(Debug, Clone, Copy)]
pub(super) struct Component {
    /// Horizontal sampling factor.
    pub(super) h: u8,
    /// Vertical sampling factor.
    pub(super) v: u8,
    /// Quantisation table index.
    pub(super) tq: usize,
    /// DC Huffman table index (from the scan header).
    pub(super) dc: usize,
    /// AC Huffman table index (from the scan header).
    pub(super) ac: usize,
}

/// Everything the entropy decoder needs, and where the scan's data starts.
pub(super) struct Header {
    pub(super) width: u32,
    pub(super) height: u32,
    /// In frame order, which is also the scan's order (required).
    pub(super) components: Vec<Component>,
    /// Quantisation tables, natural (row-major) order.
    pub(super) quant: [[u16; 64]; 4],
    pub(super) dc_tables: [Option<HuffmanTable>; 4],
    pub(super) ac_tables: [Option<HuffmanTable>; 4],
    /// MCUs between restart markers; 0 when there are none.
    pub(super) restart_interval: u32,
    /// Offset of the first byte of entropy-coded data.
    pub(super) scan_start: usize,
}

impl Header {
    /// The largest horizontal and vertical sampling factors.
    pub(super) fn max_sampling(&self) -> (u8, u8) {
        let h = self.components.iter().map(|c| c.h).max().unwrap_or(1);
        let v = self.components.iter().map(|c| c.v).max().unwrap_or(1);
        (h, v)
    }
}

/// Zigzag position to natural (row-major) position.
pub(super) const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
    28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54,
    47, 55, 62, 63,
];

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, Unreadable> {
        let b = *self.data.get(self.pos).ok_or(Unreadable("the header ends early"))?;
        self.pos += 1;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, Unreadable> {
        Ok(u16::from(self.byte()?) << 8 | u16::from(self.byte()?))
    }

    /// The body of a marker segment (after its length field).
    fn segment(&mut self) -> Result<&'a [u8], Unreadable> {
        let len = usize::from(self.u16()?);
        if len < 2 {
            return Err(Unreadable("a marker segment is shorter than its length field"));
        }
        let body = self
            .data
            .get(self.pos..self.pos + len - 2)
            .ok_or(Unreadable("a marker segment runs past the end of the file"))?;
        self.pos += len - 2;
        Ok(body)
    }
}

struct Frame {
    width: u32,
    height: u32,
    /// (id, h, v, tq)
    components: Vec<(u8, u8, u8, usize)>,
}

/// Reads the markers from SOI to the first SOS.
pub(super) fn read(data: &[u8]) -> Result<Header, Unreadable> {
    if data.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err(Unreadable("not a JPEG (no start-of-image marker)"));
    }
    let mut r = Reader { data, pos: 2 };
    let mut frame: Option<Frame> = None;
    let mut quant = [[0u16; 64]; 4];
    let mut quant_seen = [false; 4];
    let mut dc_tables: [Option<HuffmanTable>; 4] = Default::default();
    let mut ac_tables: [Option<HuffmanTable>; 4] = Default::default();
    let mut restart_interval = 0;
    let mut adobe_transform = None;
    loop {
        if r.byte()? != 0xFF {
            return Err(Unreadable("bytes between markers"));
        }
        let mut marker = r.byte()?;
        while marker == 0xFF {
            marker = r.byte()?;
        }
        match marker {
            0xC0 | 0xC1 => {
                if frame.is_some() {
                    return Err(Unreadable("two frame headers"));
                }
                frame = Some(read_frame(r.segment()?)?);
            }
            0xC2 => return Err(Unreadable("progressive")),
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(Unreadable("lossless, hierarchical or arithmetic coding"));
            }
            0xC4 => read_huffman(r.segment()?, &mut dc_tables, &mut ac_tables)?,
            0xDB => read_quant(r.segment()?, &mut quant, &mut quant_seen)?,
            0xDD => {
                let body = r.segment()?;
                if body.len() != 2 {
                    return Err(Unreadable("a restart interval segment is not 2 bytes"));
                }
                restart_interval = u32::from(u16::from(body[0]) << 8 | u16::from(body[1]));
            }
            0xEE => {
                let body = r.segment()?;
                if body.len() >= 12 && body.starts_with(b"Adobe") {
                    adobe_transform = Some(body[11]);
                }
            }
            0xDA => {
                let frame = frame.ok_or(Unreadable("a scan before the frame header"))?;
                let components = read_scan(r.segment()?, &frame)?;
                check_colour(&frame, adobe_transform)?;
                for c in &components {
                    if !quant_seen[c.tq] {
                        return Err(Unreadable("a component's quantisation table is missing"));
                    }
                    if dc_tables[c.dc].is_none() || ac_tables[c.ac].is_none() {
                        return Err(Unreadable("a component's Huffman table is missing"));
                    }
                }
                return Ok(Header {
                    width: frame.width,
                    height: frame.height,
                    components,
                    quant,
                    dc_tables,
                    ac_tables,
                    restart_interval,
                    scan_start: r.pos,
                });
            }
            0xD8 | 0xD9 | 0xD0..=0xD7 | 0x01 => return Err(Unreadable("a marker out of place before the scan")),
            _ => {
                r.segment()?;
            }
        }
    }
}

fn read_frame(body: &[u8]) -> Result<Frame, Unreadable> {
    let [precision, h1, h0, w1, w0, count, rest @ ..] = body else {
        return Err(Unreadable("a short frame header"));
    };
    if *precision != 8 {
        return Err(Unreadable("not 8 bits per sample"));
    }
    let height = u32::from(*h1) << 8 | u32::from(*h0);
    let width = u32::from(*w1) << 8 | u32::from(*w0);
    if width == 0 || height == 0 {
        return Err(Unreadable("a zero side (or a height given later by a DNL marker)"));
    }
    if !matches!(count, 1 | 3) || rest.len() != usize::from(*count) * 3 {
        return Err(Unreadable("neither one nor three components"));
    }
    let mut components: Vec<(u8, u8, u8, usize)> = Vec::with_capacity(3);
    for c in rest.chunks_exact(3) {
        let (h, v, tq) = (c[1] >> 4, c[1] & 15, usize::from(c[2]));
        if !(1..=2).contains(&h) || !(1..=2).contains(&v) || tq > 3 {
            return Err(Unreadable("a sampling factor above 2 or a bad table index"));
        }
        if components.iter().any(|&(id, ..)| id == c[0]) {
            return Err(Unreadable("two components with the same id"));
        }
        components.push((c[0], h, v, tq));
    }
    Ok(Frame {
        width,
        height,
        components,
    })
}

/// YCbCr (three components) or grey; RGB-coded files go elsewhere.
fn check_colour(frame: &Frame, adobe_transform: Option<u8>) -> Result<(), Unreadable> {
    if frame.components.len() == 3 {
        let ids: Vec<u8> = frame.components.iter().map(|c| c.0).collect();
        let rgb_ids = ids == b"RGB";
        if adobe_transform == Some(0) || (adobe_transform.is_none() && rgb_ids) {
            return Err(Unreadable("RGB, not YCbCr"));
        }
    }
    Ok(())
}

fn read_scan(body: &[u8], frame: &Frame) -> Result<Vec<Component>, Unreadable> {
    let count = usize::from(*body.first().ok_or(Unreadable("an empty scan header"))?);
    if count != frame.components.len() || body.len() != 1 + 2 * count + 3 {
        return Err(Unreadable("a scan that does not hold every component"));
    }
    let mut components = Vec::with_capacity(count);
    for (i, &(id, h, v, tq)) in frame.components.iter().enumerate() {
        let (cs, tables) = (body[1 + 2 * i], body[2 + 2 * i]);
        if cs != id {
            return Err(Unreadable("scan components in another order than the frame's"));
        }
        let (dc, ac) = (usize::from(tables >> 4), usize::from(tables & 15));
        if dc > 3 || ac > 3 {
            return Err(Unreadable("a bad Huffman table index"));
        }
        components.push(Component { h, v, tq, dc, ac });
    }
    let spectral = &body[1 + 2 * count..];
    if spectral != [0, 63, 0] {
        return Err(Unreadable("not a sequential scan of all 64 coefficients"));
    }
    Ok(components)
}

fn read_quant(mut body: &[u8], quant: &mut [[u16; 64]; 4], seen: &mut [bool; 4]) -> Result<(), Unreadable> {
    while let [pq_tq, rest @ ..] = body {
        let (precision, index) = (pq_tq >> 4, usize::from(pq_tq & 15));
        if index > 3 || precision > 1 {
            return Err(Unreadable("a bad quantisation table"));
        }
        let len = 64 * (usize::from(precision) + 1);
        let values = rest.get(..len).ok_or(Unreadable("a short quantisation table"))?;
        for k in 0..64 {
            let q = if precision == 0 {
                u16::from(values[k])
            } else {
                u16::from(values[2 * k]) << 8 | u16::from(values[2 * k + 1])
            };
            quant[index][ZIGZAG[k]] = q;
        }
        seen[index] = true;
        body = &rest[len..];
    }
    Ok(())
}

fn read_huffman(
    mut body: &[u8],
    dc: &mut [Option<HuffmanTable>; 4],
    ac: &mut [Option<HuffmanTable>; 4],
) -> Result<(), Unreadable> {
    while let [tc_th, rest @ ..] = body {
        let (class, index) = (tc_th >> 4, usize::from(tc_th & 15));
        if class > 1 || index > 3 {
            return Err(Unreadable("a bad Huffman table header"));
        }
        let counts: [u8; 16] = rest
            .get(..16)
            .and_then(|c| c.try_into().ok())
            .ok_or(Unreadable("a short Huffman table"))?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let symbols = rest.get(16..16 + total).ok_or(Unreadable("a short Huffman table"))?;
        let table = HuffmanTable::new(&counts, symbols)?;
        if class == 0 {
            dc[index] = Some(table);
        } else {
            ac[index] = Some(table);
        }
        body = &rest[16 + total..];
    }
    Ok(())
}
