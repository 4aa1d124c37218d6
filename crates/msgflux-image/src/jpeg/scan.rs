//! Entropy decoding of a baseline scan, one MCU row at a time, keeping only
//! the coefficients the half-scale inverse DCT reads (the others are read
//! past: their bits are skipped without being sign-extended or stored).

use super::Unreadable;
use super::bits::BitReader;
use super::header::{Header, ZIGZAG};
use super::huffman::HuffmanTable;

/// Where one component's blocks sit in an MCU row, and what of them is kept.
#[derive(Debug, Clone, Copy)]
pub(super) struct ComponentLayout {
    /// Blocks per MCU, across and down.
    pub(super) h: usize,
    pub(super) v: usize,
    /// Blocks across the MCU row.
    pub(super) blocks_across: usize,
    /// Index of the component's first block in an MCU row's buffer.
    pub(super) first_block: usize,
    /// Output pixels per block at half scale, across and down (4 or 8):
    /// a component sampled at half the luma rate gives each of its
    /// samples one output pixel, so it needs all 8 coefficients of an axis.
    pub(super) out_w: usize,
    pub(super) out_h: usize,
    pub(super) quant: usize,
    dc: usize,
    ac: usize,
    /// Bit k set: zigzag coefficient k is kept.
    keep: u64,
    /// The last zigzag index kept.
    last_kept: usize,
}

/// The MCU grid of a frame at half scale.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub(super) mcus_across: usize,
    pub(super) mcu_rows: usize,
    pub(super) components: Vec<ComponentLayout>,
    /// Blocks in one MCU row, all components.
    pub(super) blocks_per_row: usize,
    /// Output pixels of one MCU row, across (the whole row) and down.
    pub(super) plane_w: usize,
    pub(super) plane_h: usize,
}

impl Layout {
    pub(super) fn new(header: &Header) -> Result<Self, Unreadable> {
        let (hmax, vmax) = header.max_sampling();
        let (hmax, vmax) = (usize::from(hmax), usize::from(vmax));
        let (width, height) = (header.width as usize, header.height as usize);
        let single = header.components.len() == 1;
        // A single-component scan is not interleaved: its MCU is one block,
        // whatever the sampling factors say.
        let (mcu_w, mcu_h) = if single { (8, 8) } else { (8 * hmax, 8 * vmax) };
        let mcus_across = width.div_ceil(mcu_w);
        let mcu_rows = height.div_ceil(mcu_h);
        let mut first_block = 0;
        let mut components = Vec::with_capacity(header.components.len());
        for c in &header.components {
            let (h, v) = if single {
                (1, 1)
            } else {
                (usize::from(c.h), usize::from(c.v))
            };
            if hmax % h != 0 || vmax % v != 0 {
                return Err(Unreadable("sampling factors that do not divide the largest"));
            }
            let (out_w, out_h) = if single { (4, 4) } else { (4 * hmax / h, 4 * vmax / v) };
            let mut keep = 0u64;
            let mut last_kept = 0;
            for (k, &natural) in ZIGZAG.iter().enumerate() {
                if natural % 8 < out_w && natural / 8 < out_h {
                    keep |= 1 << k;
                    last_kept = k;
                }
            }
            let blocks_across = mcus_across * h;
            components.push(ComponentLayout {
                h,
                v,
                blocks_across,
                first_block,
                out_w,
                out_h,
                quant: c.tq,
                dc: c.dc,
                ac: c.ac,
                keep,
                last_kept,
            });
            first_block += blocks_across * v;
        }
        let (plane_w, plane_h) = (mcus_across * mcu_w / 2, mcu_h / 2);
        Ok(Self {
            mcus_across,
            mcu_rows,
            components,
            blocks_per_row: first_block,
            plane_w,
            plane_h,
        })
    }
}

/// The entropy decoder's state across MCU rows.
pub(super) struct ScanDecoder<'a> {
    bits: BitReader<'a>,
    layout: Layout,
    dc_tables: Vec<&'a HuffmanTable>,
    ac_tables: Vec<&'a HuffmanTable>,
    predictors: Vec<i32>,
    restart_interval: u32,
    until_restart: u32,
}

impl<'a> ScanDecoder<'a> {
    pub(super) fn new(data: &'a [u8], header: &'a Header, layout: Layout) -> Result<Self, Unreadable> {
        let table = |tables: &'a [Option<HuffmanTable>; 4], i: usize| {
            tables[i]
                .as_ref()
                .ok_or(Unreadable("a component's Huffman table is missing"))
        };
        let dc_tables = layout
            .components
            .iter()
            .map(|c| table(&header.dc_tables, c.dc))
            .collect::<Result<_, _>>()?;
        let ac_tables = layout
            .components
            .iter()
            .map(|c| table(&header.ac_tables, c.ac))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            bits: BitReader::new(&data[header.scan_start..]),
            predictors: vec![0; layout.components.len()],
            layout,
            dc_tables,
            ac_tables,
            restart_interval: header.restart_interval,
            until_restart: header.restart_interval,
        })
    }

    /// Decodes the next MCU row into `coefficients` (`blocks_per_row` x 64,
    /// zeroed: only kept coefficients are written).
    pub(super) fn decode_row(&mut self, coefficients: &mut [i16]) -> Result<(), Unreadable> {
        for mcu_x in 0..self.layout.mcus_across {
            if self.restart_interval > 0 {
                if self.until_restart == 0 {
                    if !self.bits.restart() {
                        return Err(Unreadable("a restart marker is missing"));
                    }
                    self.predictors.fill(0);
                    self.until_restart = self.restart_interval;
                }
                self.until_restart -= 1;
            }
            for (i, c) in self.layout.components.iter().enumerate() {
                for by in 0..c.v {
                    for bx in 0..c.h {
                        let block = c.first_block + by * c.blocks_across + mcu_x * c.h + bx;
                        let block = &mut coefficients[block * 64..block * 64 + 64];
                        decode_block(
                            &mut self.bits,
                            self.dc_tables[i],
                            self.ac_tables[i],
                            &mut self.predictors[i],
                            c,
                            block,
                        )?;
                    }
                }
            }
        }
        if self.bits.overran() {
            return Err(Unreadable("the scan ends before its last block"));
        }
        Ok(())
    }
}

#[inline(always)]
fn decode_block(
    bits: &mut BitReader<'_>,
    dc: &HuffmanTable,
    ac: &HuffmanTable,
    predictor: &mut i32,
    c: &ComponentLayout,
    block: &mut [i16],
) -> Result<(), Unreadable> {
    bits.refill();
    let size = dc.decode(bits)?;
    if size > 11 {
        return Err(Unreadable("a DC difference above 11 bits"));
    }
    *predictor = predictor.wrapping_add(bits.receive_extend(u32::from(size)));
    block[0] = *predictor as i16;
    let mut k = 1usize;
    // The kept coefficients: stored.
    while k <= c.last_kept {
        match next_ac(bits, ac, true)? {
            Ac::End => return Ok(()),
            Ac::SixteenZeros => k += 16,
            Ac::Coefficient { run, value } => {
                k = at_coefficient(k, run)?;
                if c.keep >> k & 1 != 0 {
                    block[ZIGZAG[k]] = value as i16;
                }
                k += 1;
            }
        }
    }
    // The rest: read past.
    while k < 64 {
        match next_ac(bits, ac, false)? {
            Ac::End => return Ok(()),
            Ac::SixteenZeros => k += 16,
            Ac::Coefficient { run, .. } => k = at_coefficient(k, run)? + 1,
        }
    }
    Ok(())
}

/// One AC code of a block.
enum Ac {
    /// End of block: the rest are zeros.
    End,
    /// A run of sixteen zeros (ZRL).
    SixteenZeros,
    /// `run` zeros, then `value` (0 when not asked for).
    Coefficient { run: usize, value: i32 },
}

/// Reads the next AC code and its value bits, sign-extending the value
/// only when `wanted` (read-past coefficients are skipped).
#[inline(always)]
fn next_ac(bits: &mut BitReader<'_>, ac: &HuffmanTable, wanted: bool) -> Result<Ac, Unreadable> {
    if bits.available() < 32 {
        bits.refill();
    }
    if let Some((run, value)) = ac.decode_ac_fast(bits) {
        return Ok(Ac::Coefficient { run, value });
    }
    let rs = ac.decode(bits)?;
    let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
    Ok(match (run, size) {
        (15, 0) => Ac::SixteenZeros,
        (_, 0) => Ac::End,
        _ if wanted => Ac::Coefficient {
            run,
            value: bits.receive_extend(size),
        },
        _ => {
            bits.consume(size);
            Ac::Coefficient { run, value: 0 }
        }
    })
}

/// The zigzag index of a coefficient after `run` zeros from `k`, refused
/// past the block's end.
#[inline(always)]
fn at_coefficient(k: usize, run: usize) -> Result<usize, Unreadable> {
    let at = k + run;
    if at > 63 {
        return Err(Unreadable("a run of zeros past the end of a block"));
    }
    Ok(at)
}
