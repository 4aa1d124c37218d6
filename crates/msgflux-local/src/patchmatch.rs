//! Exemplar-based completion: multi-scale PatchMatch (C. Barnes et al.,
//! "PatchMatch: A Randomized Correspondence Algorithm for Structural Image
//! Editing", 2009) inside the coarse-to-fine EM completion of Y. Wexler,
//! E. Shechtman and M. Irani ("Space-Time Completion of Video", 2007).
//!
//! The hole is filled with texture copied from the rest of the image:
//!
//! 1. A pyramid halves the image until the hole is shallow or the image small
//!    (a coarse pixel is a hole when any of its fine pixels is).
//! 2. On the coarsest level the hole is first filled ring by ring from its
//!    border inwards, each pixel copied from the known patch that best fits
//!    its known surroundings (an exhaustive "onion peel"; fast marching,
//!    [`telea`](crate::telea::inpaint), when the coarsest level is too large for that).
//! 3. On each level, from coarse to fine, EM iterations alternate a
//!    PatchMatch search (for every patch that overlaps the hole, the most
//!    similar patch lying wholly in the known area) with a vote (each hole
//!    pixel becomes the mean of what the matched patches covering it say,
//!    weighted by how well each matched). Patches are compared with the
//!    known pixels weighing `KNOWN_WEIGHT` times more than the hole's
//!    current guess, so a patch on the border follows what is really
//!    there rather than a guess that may be wrong.
//! 4. The matches of a level seed the next finer level, whose first vote
//!    already copies full-resolution texture, so the result is sharp, not
//!    an upsampled blur.
//! 5. On the finest level the last vote copies instead of averaging: each
//!    hole pixel takes the pixel of the one best-weighted patch covering
//!    it, so the fill has the roughness of the real texture (the mean of
//!    many patches halves its gradient energy).
//! 6. A seam correction (after Pérez et al., "Poisson Image Editing", 2003):
//!    the copies also predict the known pixels along the hole's border;
//!    the difference between those pixels and the prediction is spread
//!    smoothly over the hole (a membrane) and added, which removes colour
//!    steps at the border without blurring the copied texture.
//! 7. Roughness matching (`src/roughness.rs`): the fill's fine
//!    detail is scaled so that its energy follows that of the known pixels
//!    along the border, which roughens a fill copied from smooth sources
//!    and calms one that is grainier than its surroundings.
//!
//! Deterministic for a seed, whatever the number of threads: rows are cut
//! into fixed strips searched in parallel, each with its own random stream
//! derived from the seed, and votes gather in a fixed order.
//!
//! Memory: about `2 * channels + 21` bytes per image pixel for the finest
//! level (image, hole, comparison weights, patch kind, match, cost and
//! copy fields), a third more for the coarser levels, a copy of the image per
//! vote and the seam correction over the hole's bounding box (16 bytes per
//! pixel of it for RGB): about 40 MB for a 1024x1024 RGB image, on top of
//! the input and output images. The roughness matching works over that box
//! grown by 15 pixels; measured at 1024x1024, it raised the `fill` example's
//! peak RSS from 65 to 68 MB for a rectangle and from 102 to 131 MB for
//! strokes, whose box is the whole image.

use image::{ImageBuffer, Pixel};
use msgflux_core::{Error, Result};
use rand::{Rng as _, RngCore as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::cancel::CancelFlag;
use crate::hole::{self, HoleMask};
use crate::membrane;
use crate::raster::Raster;
use crate::roughness;
use crate::telea;

/// Settings of a PatchMatch fill.
///
/// ```
/// let settings = msgflux_local::PatchMatchSettings::default().with_patch_size(9).with_seed(42);
/// assert_eq!((settings.patch_size, settings.seed), (9, 42));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PatchMatchSettings {
    /// Side of the square patches compared, in pixels; odd (default 9).
    /// Larger patches keep larger structures together and cost more.
    pub patch_size: u32,
    /// EM iterations (search, then vote) on each coarse level (default 4);
    /// the finest level, the most expensive, runs half as many (at least one).
    pub iterations: u32,
    /// Seed of the random search; the same seed gives the same fill.
    pub seed: u64,
}

impl Default for PatchMatchSettings {
    fn default() -> Self {
        Self {
            patch_size: 9,
            iterations: 4,
            seed: 0,
        }
    }
}

impl PatchMatchSettings {
    /// Smallest accepted patch size.
    pub const MIN_PATCH_SIZE: u32 = 3;
    /// Largest accepted patch size.
    pub const MAX_PATCH_SIZE: u32 = 15;
    /// Most accepted iterations.
    pub const MAX_ITERATIONS: u32 = 20;

    /// Sets [`PatchMatchSettings::patch_size`].
    pub fn with_patch_size(mut self, size: u32) -> Self {
        self.patch_size = size;
        self
    }

    /// Sets [`PatchMatchSettings::iterations`].
    pub fn with_iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations;
        self
    }

    /// Sets [`PatchMatchSettings::seed`].
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub(crate) fn check(&self) -> Result<()> {
        let (min, max) = (Self::MIN_PATCH_SIZE, Self::MAX_PATCH_SIZE);
        if !(min..=max).contains(&self.patch_size) || self.patch_size % 2 == 0 {
            return Err(Error::invalid(
                "option patch_size",
                format!("must be odd and between {min} and {max}, got {}", self.patch_size),
            ));
        }
        if !(1..=Self::MAX_ITERATIONS).contains(&self.iterations) {
            return Err(Error::invalid(
                "option iterations",
                format!(
                    "must be between 1 and {}, got {}",
                    Self::MAX_ITERATIONS,
                    self.iterations
                ),
            ));
        }
        Ok(())
    }
}

/// Fills the hole of `image` with patches of its known area. Pixels outside
/// the hole are copied unchanged; partially transparent mask pixels blend
/// the fill over the original.
///
/// When no patch fits wholly in the known area (an image smaller than a
/// patch, or a known area thinner than one) it falls back to [`telea`].
///
/// ```
/// use image::{GrayImage, Luma};
/// use msgflux_local::{CancelFlag, HoleMask, PatchMatchSettings, patchmatch};
/// // Vertical stripes, 4 pixels wide; a square hole in the middle.
/// let image = GrayImage::from_fn(48, 48, |x, _| Luma([if (x / 4) % 2 == 0 { 30 } else { 220 }]));
/// let hole = HoleMask::from_fn(48, 48, |x, y| (18..30).contains(&x) && (18..30).contains(&y));
/// let filled = patchmatch::inpaint(&image, &hole, &PatchMatchSettings::default(), &CancelFlag::new())?;
/// // The stripes continue through the hole instead of blurring to grey.
/// assert_eq!(filled.get_pixel(24, 24), image.get_pixel(24, 24));
/// # Ok::<(), msgflux_core::Error>(())
/// ```
pub fn inpaint<P>(
    image: &ImageBuffer<P, Vec<u8>>,
    hole: &HoleMask,
    settings: &PatchMatchSettings,
    cancel: &CancelFlag,
) -> Result<ImageBuffer<P, Vec<u8>>>
where
    P: Pixel<Subpixel = u8>,
{
    hole.check_fits(image.width(), image.height())?;
    settings.check()?;
    let mut raster = Raster::from_buffer(image);
    complete(&mut raster, &hole.to_bools(), settings, cancel)?;
    Ok(hole.composite(image, &raster.into_buffer()))
}

/// Rows per strip of the parallel search: fixed, so results do not depend on the thread count.
const STRIP_ROWS: usize = 16;
/// Coarse levels stop before a side would fall below this. Coarser starts
/// lose the context that tells a backdrop from a face, and then copy whole
/// objects into the hole (measured on the astronaut photo).
const MIN_LEVEL_SIDE: usize = 128;
/// Coarse levels stop before one would have fewer whole known patches than this.
const MIN_SOURCES: usize = 64;
/// How much more a known pixel weighs than a hole pixel (the current guess)
/// when two patches are compared. 1 is the plain sum of squared differences
/// of Wexler et al.; on the benchmark (`docs/benchmarks/local.md`) 16, 32
/// and 64 each scored better than 1 on every image, 64 best. At most 128
/// (the weighted differences are computed in 16 bits).
const KNOWN_WEIGHT: u8 = 64;
/// Jacobi relaxations of the seam correction after its push-pull start
/// (more changed the benchmark scores by less than 0.01 dB).
const SEAM_RELAXATIONS: usize = 20;
/// Base γ of the spatial vote confidence `γ^-depth`: Wexler et al. use 1.3;
/// 2 favours the border more and scored better on the benchmark.
const CONFIDENCE_BASE: f32 = 2.0;
/// Ratio of successive spans of the random search on the finest level
/// (1/2, as in Barnes et al., on the others). The finest level's matches
/// come refined from the coarser levels, and it holds 3/4 of the work: 1/3
/// samples 7 spans instead of 11 on a 1024-pixel side, which saved about 15%
/// of the time for 0.004 dB less on the benchmark (mean of two seeds).
const FINEST_SEARCH_RATIO: (i64, i64) = (1, 3);
/// Depth beyond which the spatial confidence stops falling. Deeper, `γ^-depth`
/// times a poor match's weight would underflow `f32` to 0: a hole pixel whose
/// every covering patch weighed 0 kept what the hole held (the centre of a
/// 10% square hole in a 1024x1024 image reaches depth 162).
const CONFIDENCE_DEPTH: usize = 100;
/// PatchMatch passes per EM iteration (alternating scan direction).
const SEARCH_PASSES: usize = 2;
/// Extra passes on the coarsest level, whose matches start random.
const FIRST_SEARCH_PASSES: usize = 6;
/// Most (hole pixel, source patch) pairs the exhaustive onion-peel start may compare;
/// beyond it (thin holes that keep the coarsest level large) fast marching starts instead.
const ONION_PEEL_BUDGET: u64 = 4_000_000;
/// Neighbourhood radius of the fast-marching start on the coarsest level.
const TELEA_RADIUS: usize = 5;

/// Completes `hole` in `raster` in place.
pub(crate) fn complete(
    raster: &mut Raster,
    hole: &[bool],
    settings: &PatchMatchSettings,
    cancel: &CancelFlag,
) -> Result<()> {
    let radius = (settings.patch_size / 2) as usize;
    let mut levels = pyramid(raster, hole, radius);
    if levels[0].field.sources.is_empty() {
        return telea::fill(raster, hole, TELEA_RADIUS, cancel);
    }
    let coarsest = levels.len() - 1;
    {
        let level = &mut levels[coarsest];
        let pairs = level.hole.iter().filter(|&&h| h).count() as u64 * level.field.sources.len() as u64;
        if pairs <= ONION_PEEL_BUDGET {
            level.peel(cancel)?;
        } else {
            telea::fill(&mut level.raster, &level.hole, TELEA_RADIUS, cancel)?;
        }
        level.field.randomize(mix(settings.seed, &[coarsest as u64, u64::MAX]));
        level.field.measure(&level.raster);
    }
    for index in (0..=coarsest).rev() {
        if index < coarsest {
            let (finer, coarser) = levels.split_at_mut(index + 1);
            let level = &mut finer[index];
            level
                .field
                .inherit(&coarser[0].field, mix(settings.seed, &[index as u64, u64::MAX]));
            level.vote(false);
            level.field.measure(&level.raster);
        }
        let level = &mut levels[index];
        let iterations = if index == 0 {
            settings.iterations.div_ceil(2)
        } else {
            settings.iterations
        };
        for em in 0..iterations as usize {
            let passes = if index == coarsest && em == 0 {
                FIRST_SEARCH_PASSES
            } else {
                SEARCH_PASSES
            };
            for pass in 0..passes {
                let stream = mix(settings.seed, &[index as u64, em as u64, pass as u64]);
                level.field.search(&level.raster, pass % 2 == 0, stream, cancel);
                cancel.check()?;
            }
            level.vote(true);
            level.field.measure(&level.raster);
            cancel.check()?;
        }
    }
    let mut finest = levels.swap_remove(0);
    let choice = finest.best_copies();
    finest.copy_from(&choice);
    finest.correct_seam(&choice);
    roughness::match_surroundings(&mut finest.raster, &finest.hole);
    *raster = finest.raster;
    Ok(())
}

/// One level of the pyramid: the image (with the current guess in the hole),
/// the hole, and the patch matches.
struct Level {
    raster: Raster,
    hole: Vec<bool>,
    field: Field,
    /// Spatial confidence of each patch centre, `γ^-depth` (Wexler et al.):
    /// patches near the border, which see more known pixels, vote louder.
    confidence: Vec<f32>,
    /// The largest chessboard distance from a hole pixel to the known area.
    deepest: usize,
}

impl Level {
    fn new(raster: Raster, hole: Vec<bool>, radius: usize) -> Self {
        let field = Field::new(raster.width, raster.height, raster.channels, radius, &hole);
        let depth = depth_map(&hole, raster.width, raster.height);
        let deepest = depth.iter().copied().max().unwrap_or(0);
        let confidence = depth
            .into_iter()
            .map(|d| CONFIDENCE_BASE.powi(-(d.min(CONFIDENCE_DEPTH) as i32)))
            .collect();
        Self {
            raster,
            hole,
            field,
            confidence,
            deepest,
        }
    }

    /// The coarsest level's first guess, filled from the border inwards one
    /// ring at a time: each pixel of a ring takes the matching pixel of the
    /// source patch that best fits what is already known around it (known
    /// and earlier rings only, compared exhaustively). Unlike a smooth
    /// start, this cannot drift towards a colour found nowhere on the border.
    fn peel(&mut self, cancel: &CancelFlag) -> Result<()> {
        let (w, h, c, r) = (
            self.raster.width,
            self.raster.height,
            self.raster.channels,
            self.field.radius,
        );
        let depth = depth_map(&self.hole, w, h);
        let deepest = depth.iter().copied().max().unwrap_or(0);
        let mut known: Vec<bool> = self.hole.iter().map(|&inside| !inside).collect();
        for ring_depth in 1..=deepest {
            let ring: Vec<usize> = (0..w * h).filter(|&i| depth[i] == ring_depth).collect();
            let raster = &self.raster;
            let (known_now, sources) = (&known, &self.field.sources);
            let fills: Vec<(usize, usize)> = ring
                .par_iter()
                .map(|&p| {
                    let t = (p / w).clamp(r, h - 1 - r) * w + (p % w).clamp(r, w - 1 - r);
                    let mut best = (u32::MAX, sources[0] as usize);
                    for &s in sources {
                        let cost = masked_patch_cost(raster, known_now, r, t, s as usize, best.0);
                        if cost < best.0 {
                            best = (cost, s as usize);
                        }
                    }
                    (p, best.1 + p - t)
                })
                .collect();
            for (p, q) in fills {
                let value: Vec<u8> = self.raster.pixel(q).to_vec();
                self.raster.data[p * c..(p + 1) * c].copy_from_slice(&value);
                known[p] = true;
            }
            cancel.check()?;
        }
        Ok(())
    }

    /// Replaces every hole pixel by the weighted mean of what the matched
    /// patches covering it say. `weighted` false gives every patch the same
    /// weight (used right after inheriting matches, whose costs are unknown).
    fn vote(&mut self, weighted: bool) {
        let weights = if weighted {
            self.field.weights(&self.confidence)
        } else {
            self.confidence.clone()
        };
        let (w, h, c, r) = (
            self.raster.width,
            self.raster.height,
            self.raster.channels,
            self.field.radius,
        );
        let side = 2 * r + 1;
        let field = &self.field;
        let hole = &self.hole;
        let current = &self.raster;
        let mut next = current.data.clone();
        next.par_chunks_mut(w * c).enumerate().for_each(|(y, row)| {
            if !hole[y * w..(y + 1) * w].contains(&true) {
                return;
            }
            // Each target patch whose window crosses row y adds one of its
            // source's rows to `side` consecutive pixels: targets in
            // increasing order, so each pixel sums in a fixed order.
            let mut acc = vec![0f32; w * c];
            let mut total = vec![0f32; w];
            for ty in y.saturating_sub(r).max(r)..=(y + r).min(h - 1 - r) {
                // Row `dy` of the patch centred on row `ty` lies on row `y`.
                let dy = y + r - ty;
                for tx in r..w - r {
                    let t = ty * w + tx;
                    if field.kind[t] != TARGET {
                        continue;
                    }
                    let weight = weights[t];
                    let source_row = (field.nnf[t] as usize - r * w - r + dy * w) * c;
                    let source = &current.data[source_row..source_row + side * c];
                    for (a, &v) in acc[(tx - r) * c..(tx + r + 1) * c].iter_mut().zip(source) {
                        *a += weight * f32::from(v);
                    }
                    for sum in &mut total[tx - r..=tx + r] {
                        *sum += weight;
                    }
                }
            }
            for x in (0..w).filter(|&x| hole[y * w + x] && total[x] > 0.0) {
                for (dst, a) in row[x * c..(x + 1) * c].iter_mut().zip(&acc[x * c..(x + 1) * c]) {
                    *dst = (a / total[x]).round().clamp(0.0, 255.0) as u8;
                }
            }
        });
        self.raster.data = next;
    }

    /// For every pixel in or next to the hole, the known pixel it copies:
    /// the pixel at the same offset in the source of the best-weighted
    /// target patch covering it ([`Field::weights`]), or [`NO_COPY`].
    ///
    /// Averaging every patch that covers a pixel, as the EM vote does,
    /// smooths texture at the finest level (gradient energy in the hole
    /// about half the truth's on the benchmark); one patch per pixel keeps
    /// it, and neighbouring pixels that pick the same patch copy a piece of
    /// real texture whole (the "best patch" vote of the completion
    /// literature). Ties go to the first target in index order.
    fn best_copies(&self) -> Vec<u32> {
        let (w, h, r) = (self.raster.width, self.raster.height, self.field.radius);
        let weights = self.field.weights(&self.confidence);
        let (field, hole) = (&self.field, &self.hole);
        let mut choice = vec![NO_COPY; w * h];
        choice.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            let near_hole = (y.saturating_sub(1)..(y + 2).min(h)).any(|yy| hole[yy * w..(yy + 1) * w].contains(&true));
            if !near_hole {
                return;
            }
            let mut best = vec![0f32; w];
            for ty in y.saturating_sub(r).max(r)..=(y + r).min(h - 1 - r) {
                for tx in r..w - r {
                    let t = ty * w + tx;
                    if field.kind[t] != TARGET || weights[t] <= 0.0 {
                        continue;
                    }
                    let source = field.nnf[t] as usize;
                    for x in tx - r..=tx + r {
                        if weights[t] > best[x] {
                            best[x] = weights[t];
                            // The pixel at the same offset inside the matched patch.
                            row[x] = (source + y * w + x - t) as u32;
                        }
                    }
                }
            }
        });
        choice
    }

    /// Replaces every hole pixel by the known pixel [`Level::best_copies`] chose for it.
    fn copy_from(&mut self, choice: &[u32]) {
        let c = self.raster.channels;
        for p in (0..self.hole.len()).filter(|&p| self.hole[p] && choice[p] != NO_COPY) {
            let q = choice[p] as usize;
            self.raster.data.copy_within(q * c..(q + 1) * c, p * c);
        }
    }

    /// The seam correction: the copies reaching over the hole's border
    /// predict the known pixels next to it ([`Level::best_copies`]); the
    /// difference between each such pixel and its prediction is spread over
    /// the hole by [`membrane::extend`] and added to the fill. Reads known
    /// pixels and the fill only.
    fn correct_seam(&mut self, choice: &[u32]) {
        let (w, h, c) = (self.raster.width, self.raster.height, self.raster.channels);
        let Some((x0, y0, x1, y1)) = bounding_box(&self.hole, w, h) else {
            return;
        };
        // The hole's bounding box grown by one pixel holds its border too.
        let (x0, y0, x1, y1) = (
            x0.saturating_sub(1),
            y0.saturating_sub(1),
            (x1 + 1).min(w),
            (y1 + 1).min(h),
        );
        let (bw, bh) = (x1 - x0, y1 - y0);
        let hole = &self.hole;
        let unknown: Vec<bool> = (0..bw * bh).map(|i| hole[(y0 + i / bw) * w + x0 + i % bw]).collect();
        let mut fixed = vec![false; bw * bh];
        let mut difference = vec![0f32; bw * bh * c];
        for i in 0..bw * bh {
            let (x, y) = (x0 + i % bw, y0 + i / bw);
            let p = y * w + x;
            if !hole::on_border(hole, w, h, p) || choice[p] == NO_COPY {
                continue;
            }
            let predicted = self.raster.pixel(choice[p] as usize);
            for ((d, &known), &guess) in difference[i * c..(i + 1) * c]
                .iter_mut()
                .zip(self.raster.pixel(p))
                .zip(predicted)
            {
                *d = f32::from(known) - f32::from(guess);
            }
            fixed[i] = true;
        }
        membrane::extend(&mut difference, &fixed, &unknown, bw, bh, c, SEAM_RELAXATIONS);
        for i in (0..bw * bh).filter(|&i| unknown[i]) {
            let p = (y0 + i / bw) * w + x0 + i % bw;
            for (v, d) in self.raster.pixel_mut(p).iter_mut().zip(&difference[i * c..(i + 1) * c]) {
                *v = (f32::from(*v) + d).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// [`Level::best_copies`] for a pixel no target patch covers.
const NO_COPY: u32 = u32::MAX;

/// The smallest rectangle holding every `true` of `mask`, as `(x0, y0, x1, y1)` with exclusive ends.
pub(crate) fn bounding_box(mask: &[bool], w: usize, h: usize) -> Option<(usize, usize, usize, usize)> {
    let rows: Vec<usize> = (0..h).filter(|&y| mask[y * w..(y + 1) * w].contains(&true)).collect();
    let (&y0, &y1) = (rows.first()?, rows.last()?);
    let x0 = (y0..=y1)
        .filter_map(|y| mask[y * w..(y + 1) * w].iter().position(|&m| m))
        .min()?;
    let x1 = (y0..=y1)
        .filter_map(|y| mask[y * w..(y + 1) * w].iter().rposition(|&m| m))
        .max()?;
    Some((x0, y0, x1 + 1, y1 + 1))
}

/// Builds the levels, finest first. Halving stops when the hole is shallow
/// (no deeper than a patch radius), the image small, or whole known patches scarce.
fn pyramid(raster: &Raster, hole: &[bool], radius: usize) -> Vec<Level> {
    let mut levels = vec![Level::new(raster.clone(), hole.to_vec(), radius)];
    levels[0].field.finest = true;
    loop {
        let last = &levels[levels.len() - 1];
        let (w, h) = (last.raster.width, last.raster.height);
        if w.div_ceil(2).min(h.div_ceil(2)) < MIN_LEVEL_SIDE || last.deepest <= radius {
            break;
        }
        let (raster, hole) = last.raster.downsample(&last.hole);
        let next = Level::new(raster, hole, radius);
        if next.field.sources.len() < MIN_SOURCES {
            break;
        }
        levels.push(next);
    }
    levels
}

/// Chessboard distance of every pixel to the nearest known pixel (0 for known pixels).
fn depth_map(hole: &[bool], w: usize, h: usize) -> Vec<usize> {
    let far = w + h;
    let mut depth: Vec<usize> = hole.iter().map(|&inside| if inside { far } else { 0 }).collect();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if depth[i] == 0 {
                continue;
            }
            let mut best = depth[i];
            if x > 0 {
                best = best.min(depth[i - 1] + 1);
            }
            if y > 0 {
                best = best.min(depth[i - w] + 1);
                if x > 0 {
                    best = best.min(depth[i - w - 1] + 1);
                }
                if x + 1 < w {
                    best = best.min(depth[i - w + 1] + 1);
                }
            }
            depth[i] = best;
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let i = y * w + x;
            if depth[i] == 0 {
                continue;
            }
            let mut best = depth[i];
            if x + 1 < w {
                best = best.min(depth[i + 1] + 1);
            }
            if y + 1 < h {
                best = best.min(depth[i + w] + 1);
                if x + 1 < w {
                    best = best.min(depth[i + w + 1] + 1);
                }
                if x > 0 {
                    best = best.min(depth[i + w - 1] + 1);
                }
            }
            depth[i] = best;
        }
    }
    depth
}

/// A patch centre that is neither: too close to the image border.
const OUTSIDE: u8 = 0;
/// A patch that overlaps the hole: it needs a match.
const TARGET: u8 = 1;
/// A patch wholly in the known area: it can be copied from.
const SOURCE: u8 = 2;

/// The nearest-neighbour field of one level: for every target patch (by
/// centre index), the centre of its best source patch and the cost (sum of
/// squared differences, each weighted by [`Field::weight`]) of that match.
struct Field {
    w: usize,
    h: usize,
    radius: usize,
    kind: Vec<u8>,
    sources: Vec<u32>,
    nnf: Vec<u32>,
    cost: Vec<u32>,
    /// Per channel value of the image: how much its difference counts in a
    /// comparison, [`KNOWN_WEIGHT`] for known pixels and 1 for hole pixels.
    weight: Vec<u8>,
    /// Whether this is the finest level, whose random search samples fewer spans.
    finest: bool,
}

impl Field {
    fn new(w: usize, h: usize, channels: usize, radius: usize, hole: &[bool]) -> Self {
        let mut kind = vec![OUTSIDE; w * h];
        let mut sources = Vec::new();
        if w > 2 * radius && h > 2 * radius {
            // Summed-area table of the hole, to count hole pixels under any patch.
            let mut table = vec![0u32; (w + 1) * (h + 1)];
            for y in 0..h {
                let mut row = 0u32;
                for x in 0..w {
                    row += u32::from(hole[y * w + x]);
                    table[(y + 1) * (w + 1) + x + 1] = table[y * (w + 1) + x + 1] + row;
                }
            }
            let side = 2 * radius + 1;
            for y in radius..h - radius {
                for x in radius..w - radius {
                    let (x0, y0) = (x - radius, y - radius);
                    let (x1, y1) = (x0 + side, y0 + side);
                    let holes = table[y1 * (w + 1) + x1] + table[y0 * (w + 1) + x0]
                        - table[y0 * (w + 1) + x1]
                        - table[y1 * (w + 1) + x0];
                    let i = y * w + x;
                    if holes > 0 {
                        kind[i] = TARGET;
                    } else {
                        kind[i] = SOURCE;
                        sources.push(i as u32);
                    }
                }
            }
        }
        Self {
            w,
            h,
            radius,
            kind,
            sources,
            nnf: vec![0; w * h],
            cost: vec![u32::MAX; w * h],
            weight: hole
                .iter()
                .flat_map(|&inside| std::iter::repeat_n(if inside { 1 } else { KNOWN_WEIGHT }, channels))
                .collect(),
            finest: false,
        }
    }

    /// Gives every target a random source.
    fn randomize(&mut self, stream: u64) {
        let (w, kind, sources) = (self.w, &self.kind, &self.sources);
        self.nnf
            .par_chunks_mut(w * STRIP_ROWS)
            .enumerate()
            .for_each(|(strip, nnf)| {
                let mut rng = ChaCha8Rng::seed_from_u64(mix(stream, &[strip as u64]));
                let base = strip * STRIP_ROWS * w;
                for (local, slot) in nnf.iter_mut().enumerate() {
                    if kind[base + local] == TARGET {
                        *slot = sources[rng.random_range(0..sources.len())];
                    }
                }
            });
    }

    /// Takes the matches of the next coarser level, scaled up: a target takes
    /// its parent's source, moved by its offset from the parent. Targets whose
    /// scaled source is not a whole known patch here get a random source.
    fn inherit(&mut self, coarse: &Field, stream: u64) {
        let (w, h, r) = (self.w, self.h, self.radius);
        let (kind, sources) = (&self.kind, &self.sources);
        self.nnf
            .par_chunks_mut(w * STRIP_ROWS)
            .enumerate()
            .for_each(|(strip, nnf)| {
                let mut rng = ChaCha8Rng::seed_from_u64(mix(stream, &[strip as u64]));
                let base = strip * STRIP_ROWS * w;
                for (local, slot) in nnf.iter_mut().enumerate() {
                    let t = base + local;
                    if kind[t] != TARGET {
                        continue;
                    }
                    let (tx, ty) = (t % w, t / w);
                    let px = (tx / 2).clamp(coarse.radius, coarse.w - 1 - coarse.radius);
                    let py = (ty / 2).clamp(coarse.radius, coarse.h - 1 - coarse.radius);
                    let parent = py * coarse.w + px;
                    let inherited = (coarse.kind[parent] == TARGET).then(|| {
                        let s = coarse.nnf[parent] as usize;
                        let sx = (2 * (s % coarse.w) + tx).saturating_sub(2 * px).clamp(r, w - 1 - r);
                        let sy = (2 * (s / coarse.w) + ty).saturating_sub(2 * py).clamp(r, h - 1 - r);
                        sy * w + sx
                    });
                    *slot = match inherited {
                        Some(s) if kind[s] == SOURCE => s as u32,
                        _ => sources[rng.random_range(0..sources.len())],
                    };
                }
            });
    }

    /// Recomputes the cost of every target's current match.
    fn measure(&mut self, raster: &Raster) {
        let (w, r) = (self.w, self.radius);
        let (kind, nnf, weight) = (&self.kind, &self.nnf, &self.weight);
        self.cost.par_chunks_mut(w).enumerate().for_each(|(y, costs)| {
            for (x, cost) in costs.iter_mut().enumerate() {
                let t = y * w + x;
                if kind[t] == TARGET {
                    *cost = patch_cost(raster, weight, r, t, nnf[t] as usize, u32::MAX);
                }
            }
        });
    }

    /// One PatchMatch pass: each target tries its neighbours' matches,
    /// shifted (propagation), then random sources at halving distances
    /// around its best (random search). `forward` scans left-to-right,
    /// top-to-bottom; the other direction scans back. Strips of rows run in
    /// parallel; a strip reads the rows of its neighbour strip as they were
    /// when the pass started.
    fn search(&mut self, raster: &Raster, forward: bool, stream: u64, cancel: &CancelFlag) {
        let (w, h, r) = (self.w, self.h, self.radius);
        let before = self.nnf.clone();
        let (kind, before, weight) = (&self.kind, &before, &self.weight);
        let step: isize = if forward { 1 } else { -1 };
        let reach = w.max(h) as i64;
        // The random search samples at spans shrinking by this ratio (Barnes et al.'s α).
        let (numerator, denominator) = if self.finest { FINEST_SEARCH_RATIO } else { (1, 2) };
        self.nnf
            .par_chunks_mut(w * STRIP_ROWS)
            .zip(self.cost.par_chunks_mut(w * STRIP_ROWS))
            .enumerate()
            .for_each(|(strip, (nnf, cost))| {
                if cancel.is_cancelled() {
                    return;
                }
                let mut rng = ChaCha8Rng::seed_from_u64(mix(stream, &[strip as u64]));
                let first_row = strip * STRIP_ROWS;
                let rows = nnf.len() / w;
                let base = first_row * w;
                let row_order: Vec<usize> = if forward {
                    (first_row..first_row + rows).collect()
                } else {
                    (first_row..first_row + rows).rev().collect()
                };
                for y in row_order {
                    if y < r || y + r >= h {
                        continue;
                    }
                    for i in 0..w - 2 * r {
                        let x = if forward { r + i } else { w - 1 - r - i };
                        let t = y * w + x;
                        if kind[t] != TARGET {
                            continue;
                        }
                        let mut best = nnf[t - base] as usize;
                        let mut best_cost = cost[t - base];
                        let try_source = |s: usize, best: &mut usize, best_cost: &mut u32| {
                            if s != *best && kind[s] == SOURCE {
                                let c = patch_cost(raster, weight, r, t, s, *best_cost);
                                if c < *best_cost {
                                    *best = s;
                                    *best_cost = c;
                                }
                            }
                        };
                        // Propagation from the neighbour already visited in this pass, left or right.
                        let nx = x as isize - step;
                        if nx >= r as isize && (nx as usize) < w - r {
                            let n = y * w + nx as usize;
                            if kind[n] == TARGET {
                                let s = nnf[n - base] as usize;
                                let sx = (s % w) as isize + step;
                                if sx >= r as isize && (sx as usize) < w - r {
                                    try_source((s as isize + step) as usize, &mut best, &mut best_cost);
                                }
                            }
                        }
                        // Propagation from the neighbour row, above or below.
                        let ny = y as isize - step;
                        if ny >= r as isize && (ny as usize) < h - r {
                            let n = ny as usize * w + x;
                            if kind[n] == TARGET {
                                let in_strip = (first_row..first_row + rows).contains(&(ny as usize));
                                let s = if in_strip { nnf[n - base] } else { before[n] } as usize;
                                let sy = (s / w) as isize + step;
                                if sy >= r as isize && (sy as usize) < h - r {
                                    try_source((s as isize + step * w as isize) as usize, &mut best, &mut best_cost);
                                }
                            }
                        }
                        // Random search around the best match, at halving distances.
                        let mut span = reach;
                        while span >= 1 {
                            let (bx, by) = ((best % w) as i64, (best / w) as i64);
                            let sx = (bx + offset(&mut rng, span)).clamp(r as i64, (w - 1 - r) as i64);
                            let sy = (by + offset(&mut rng, span)).clamp(r as i64, (h - 1 - r) as i64);
                            try_source(sy as usize * w + sx as usize, &mut best, &mut best_cost);
                            span = span * numerator / denominator;
                        }
                        nnf[t - base] = best as u32;
                        cost[t - base] = best_cost;
                    }
                }
            });
    }

    /// Vote weight of each target: `exp(-mse / (2 σ²))`, with σ² the 75th
    /// percentile of the targets' mean squared errors (after Wexler et al.),
    /// so good matches count much more than poor ones.
    fn weights(&self, confidence: &[f32]) -> Vec<f32> {
        let elements = ((2 * self.radius + 1).pow(2)) as f32;
        let mut errors: Vec<f32> = self
            .kind
            .iter()
            .zip(&self.cost)
            .filter(|(k, _)| **k == TARGET)
            .map(|(_, &c)| c as f32 / elements)
            .collect();
        let sigma2 = if errors.is_empty() {
            1.0
        } else {
            let nth = errors.len() * 3 / 4;
            let (_, p75, _) = errors.select_nth_unstable_by(nth, f32::total_cmp);
            p75.max(1.0)
        };
        self.kind
            .iter()
            .zip(&self.cost)
            .zip(confidence)
            .map(|((k, &c), &confidence)| {
                if *k == TARGET {
                    confidence * (-(c as f32 / elements) / (2.0 * sigma2)).exp().max(1.0e-6)
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// Weighted sum of squared differences between the patches centred at `a`
/// and `b`, over every channel: each difference counts `weight` (taken at
/// its place in patch `a`) times. Stops early, returning a value at least
/// `limit`, once the sum reaches `limit`.
///
/// Each patch row is compared in whole blocks of [`BLOCK`] values, the
/// values past the row's end weighted 0: a row of 27 (9 RGB pixels) is two
/// blocks with no scalar tail, and a fixed-size block compiles to 16-bit
/// multiply-add vector instructions (`|d| <= 255`, weights at most 128).
/// Against a loop over the row's exact length, which left an 11-value
/// scalar tail per RGB row, the whole fill at 1024x1024 took about 15% less
/// time for the same pixels (`docs/benchmarks/local.md`).
fn patch_cost(raster: &Raster, weight: &[u8], radius: usize, a: usize, b: usize, limit: u32) -> u32 {
    // A block count known at compile time unrolls the row loop (rows are at most 15 x 4 = 60 values).
    match ((2 * radius + 1) * raster.channels).div_ceil(BLOCK) {
        1 => blocked_patch_cost::<1>(raster, weight, radius, a, b, limit),
        2 => blocked_patch_cost::<2>(raster, weight, radius, a, b, limit),
        3 => blocked_patch_cost::<3>(raster, weight, radius, a, b, limit),
        _ => blocked_patch_cost::<4>(raster, weight, radius, a, b, limit),
    }
}

/// [`patch_cost`] with rows of `N` blocks.
fn blocked_patch_cost<const N: usize>(
    raster: &Raster,
    weight: &[u8],
    radius: usize,
    a: usize,
    b: usize,
    limit: u32,
) -> u32 {
    let (w, c) = (raster.width, raster.channels);
    let row_len = (2 * radius + 1) * c;
    // Zero weights for the values of the last block that lie past the row.
    let mut tail_mask = [0u8; BLOCK];
    tail_mask[..row_len - (N - 1) * BLOCK].fill(u8::MAX);
    // Index of the patch's first value: its top-left pixel, `radius` rows up and columns left.
    let start = |centre: usize| (centre - radius * w - radius) * c;
    let (mut pa, mut pb) = (start(a), start(b));
    let mut sum = 0u32;
    for _ in 0..2 * radius + 1 {
        for block in 0..N {
            let at = block * BLOCK;
            let mut k = load_block(weight, pa + at);
            if block + 1 == N {
                for (k, m) in k.iter_mut().zip(tail_mask) {
                    *k &= m;
                }
            }
            sum += block_cost(
                &load_block(&raster.data, pa + at),
                &load_block(&raster.data, pb + at),
                &k,
            );
        }
        if sum >= limit {
            return sum;
        }
        pa += w * c;
        pb += w * c;
    }
    sum
}

/// Values compared at once by [`patch_cost`]: one 128-bit vector of bytes.
const BLOCK: usize = 16;

/// The [`BLOCK`] values of `data` from `at`, zeros past its end (only the
/// last patch rows of an image reach past it, and their weight there is 0).
fn load_block(data: &[u8], at: usize) -> [u8; BLOCK] {
    match data.get(at..at + BLOCK) {
        Some(block) => block.try_into().expect("a slice of BLOCK values"),
        None => {
            let mut block = [0u8; BLOCK];
            let rest = data.get(at..).unwrap_or_default();
            block[..rest.len()].copy_from_slice(rest);
            block
        }
    }
}

/// `sum(k * (a - b)^2)` over one block.
fn block_cost(a: &[u8; BLOCK], b: &[u8; BLOCK], k: &[u8; BLOCK]) -> u32 {
    let mut sum = 0i32;
    for i in 0..BLOCK {
        let d = i16::from(a[i]) - i16::from(b[i]);
        sum += i32::from(d) * i32::from(d * i16::from(k[i]));
    }
    sum as u32
}

/// [`patch_cost`] over the pixels of patch `a` that are `known` only.
fn masked_patch_cost(raster: &Raster, known: &[bool], radius: usize, a: usize, b: usize, limit: u32) -> u32 {
    let (w, c) = (raster.width, raster.channels);
    let side = 2 * radius + 1;
    let (a0, b0) = (a - radius * w - radius, b - radius * w - radius);
    let mut sum = 0u32;
    for dy in 0..side {
        for dx in 0..side {
            let (pa, pb) = (a0 + dy * w + dx, b0 + dy * w + dx);
            if known[pa] {
                for ch in 0..c {
                    let d = i32::from(raster.data[pa * c + ch]) - i32::from(raster.data[pb * c + ch]);
                    sum += (d * d) as u32;
                }
            }
        }
        if sum >= limit {
            return sum;
        }
    }
    sum
}

/// A uniform random offset in `-span..=span`, by multiply-shift: unbiased
/// within 2^-40 for any image size, and cheaper than a rejection-sampled range.
fn offset(rng: &mut ChaCha8Rng, span: i64) -> i64 {
    let range = (2 * span + 1) as u128;
    ((u128::from(rng.next_u64()) * range) >> 64) as i64 - span
}

/// Derives an independent random stream from a seed and a path of indices (SplitMix64 steps).
fn mix(seed: u64, path: &[u64]) -> u64 {
    let mut state = seed;
    for &step in path {
        state = splitmix(state ^ splitmix(step));
    }
    splitmix(state)
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_the_distance_to_the_nearest_known_pixel() {
        let (w, h) = (9, 9);
        let hole: Vec<bool> = (0..w * h)
            .map(|i| (2..7).contains(&(i % w)) && (2..7).contains(&(i / w)))
            .collect();
        let depth = depth_map(&hole, w, h);
        assert_eq!(depth.iter().max(), Some(&3));
        assert_eq!((depth[0], depth[2 * w + 2], depth[4 * w + 4]), (0, 1, 3));
    }

    #[test]
    fn patches_overlapping_the_hole_are_targets_and_the_rest_sources() {
        let (w, h) = (7, 7);
        let hole: Vec<bool> = (0..w * h).map(|i| i == 3 * w + 3).collect();
        let field = Field::new(w, h, 1, 1, &hole);
        assert_eq!(field.kind[3 * w + 3], TARGET);
        assert_eq!(field.kind[2 * w + 2], TARGET);
        assert_eq!(field.kind[w + 1], SOURCE);
        assert_eq!(field.kind[0], OUTSIDE);
        assert_eq!(field.sources.len(), 25 - 9);
    }

    #[test]
    fn patch_cost_stops_early_at_the_limit() {
        let raster = Raster {
            width: 6,
            height: 3,
            channels: 1,
            data: vec![0, 0, 0, 9, 9, 9, 0, 0, 0, 9, 9, 9, 0, 0, 0, 9, 9, 9],
        };
        let ones = vec![1; 18];
        assert_eq!(patch_cost(&raster, &ones, 1, 7, 10, u32::MAX), 9 * 81);
        assert_eq!(patch_cost(&raster, &ones, 1, 7, 10, 100), 3 * 81);
        assert_eq!(patch_cost(&raster, &ones, 1, 7, 7, u32::MAX), 0);
    }

    #[test]
    fn patch_cost_equals_the_plain_weighted_sum_for_every_patch_and_pixel_size() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for channels in 1..=4 {
            for radius in 1..=7 {
                let (w, h) = (2 * radius + 5, 2 * radius + 4);
                let mut data = vec![0u8; w * h * channels];
                rng.fill_bytes(&mut data);
                let weight: Vec<u8> = (0..data.len()).map(|_| rng.random_range(0..=128)).collect();
                let raster = Raster {
                    width: w,
                    height: h,
                    channels,
                    data,
                };
                // The last centre's patch ends at the buffer's last value.
                let last = (h - 1 - radius) * w + w - 1 - radius;
                for (a, b) in [
                    (last, radius * w + radius),
                    (radius * w + radius, last),
                    (last, last - 1),
                ] {
                    let mut plain = 0u32;
                    for dy in 0..=2 * radius {
                        for dx in 0..=2 * radius {
                            for ch in 0..channels {
                                let pa = ((a - radius * w - radius + dy * w + dx) * channels) + ch;
                                let pb = ((b - radius * w - radius + dy * w + dx) * channels) + ch;
                                let d = i32::from(raster.data[pa]) - i32::from(raster.data[pb]);
                                plain += (d * d) as u32 * u32::from(weight[pa]);
                            }
                        }
                    }
                    assert_eq!(
                        patch_cost(&raster, &weight, radius, a, b, u32::MAX),
                        plain,
                        "{channels} channels, radius {radius}"
                    );
                }
            }
        }
    }

    #[test]
    fn known_pixels_weigh_more_than_hole_pixels_in_a_comparison() {
        // Two 3x3 patches differing by 9 everywhere; the left column of patch `a` is known.
        let raster = Raster {
            width: 6,
            height: 3,
            channels: 1,
            data: vec![0, 0, 0, 9, 9, 9, 0, 0, 0, 9, 9, 9, 0, 0, 0, 9, 9, 9],
        };
        let hole: Vec<bool> = (0..18).map(|i| i % 6 != 0).collect();
        let field = Field::new(6, 3, 1, 1, &hole);
        let known = 3 * 81 * u32::from(KNOWN_WEIGHT);
        assert_eq!(patch_cost(&raster, &field.weight, 1, 7, 10, u32::MAX), known + 6 * 81);
    }

    #[test]
    fn random_offsets_stay_within_the_span_and_reach_both_ends() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let seen: Vec<i64> = (0..400).map(|_| offset(&mut rng, 2)).collect();
        assert!(seen.iter().all(|o| (-2..=2).contains(o)));
        assert!(seen.contains(&-2) && seen.contains(&2));
    }

    #[test]
    fn the_bounding_box_holds_every_marked_pixel() {
        let (w, h) = (6, 5);
        let mask: Vec<bool> = (0..w * h).map(|i| i == 2 * w + 1 || i == 3 * w + 4).collect();
        assert_eq!(bounding_box(&mask, w, h), Some((1, 2, 5, 4)));
        assert_eq!(bounding_box(&vec![false; w * h], w, h), None);
    }

    #[test]
    fn random_streams_differ_by_path() {
        assert_ne!(mix(1, &[0, 1]), mix(1, &[1, 0]));
        assert_ne!(mix(1, &[0]), mix(2, &[0]));
        assert_eq!(mix(7, &[3]), mix(7, &[3]));
    }
}
