//! The fills as plain functions over `image` buffers: what they promise.

use image::{GrayImage, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use msgflux_core::Error;
use msgflux_local::{CancelFlag, HoleMask, PatchMatchSettings, TeleaSettings, patchmatch, telea};

/// A photo-like test image: smooth gradients, a few edges and fine detail.
fn scene(side: u32) -> RgbImage {
    RgbImage::from_fn(side, side, |x, y| {
        let stripe = if (x + 2 * y) % 11 < 4 { 50 } else { 0 };
        let disc = if (x as i32 - 20).pow(2) + (y as i32 - 24).pow(2) < 120 {
            90
        } else {
            0
        };
        Rgb([
            (x * 3 + stripe) as u8,
            (y * 2 + disc) as u8,
            (((x * 7) ^ (y * 5)) % 64 + 100) as u8,
        ])
    })
}

/// A periodic texture (the benchmark's `synthetic` case computes the same
/// formula): a 9x7-periodic wave plus an 11-periodic diagonal pattern.
fn periodic_texture(side: u32) -> GrayImage {
    GrayImage::from_fn(side, side, |x, y| {
        let wave = 60.0
            * (2.0 * std::f64::consts::PI * f64::from(x) / 9.0).sin()
            * (2.0 * std::f64::consts::PI * f64::from(y) / 7.0).cos();
        let diagonal = if (x * 7 + y * 13) % 11 > 5 { 40.0 } else { 0.0 };
        Luma([(100.0 + wave + diagonal).round() as u8])
    })
}

fn square_hole(side: u32, from: u32, to: u32) -> HoleMask {
    HoleMask::from_fn(side, side, |x, y| (from..to).contains(&x) && (from..to).contains(&y))
}

fn psnr_inside(reference: &GrayImage, result: &GrayImage, hole: &HoleMask) -> f64 {
    let (mut sum, mut count) = (0f64, 0f64);
    for (x, y, p) in reference.enumerate_pixels() {
        if hole.is_hole(x, y) {
            let d = f64::from(p[0]) - f64::from(result.get_pixel(x, y)[0]);
            sum += d * d;
            count += 1.0;
        }
    }
    let mse = sum / count;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

fn patchmatch_with_seed(image: &RgbImage, hole: &HoleMask, seed: u64) -> RgbImage {
    patchmatch::inpaint(
        image,
        hole,
        &PatchMatchSettings::default().with_seed(seed),
        &CancelFlag::new(),
    )
    .expect("fill")
}

#[test]
fn patchmatch_is_deterministic_for_a_seed() {
    let image = scene(64);
    let hole = square_hole(64, 20, 40);
    assert_eq!(
        patchmatch_with_seed(&image, &hole, 11),
        patchmatch_with_seed(&image, &hole, 11)
    );
}

#[test]
fn different_seeds_give_different_fills() {
    let image = scene(64);
    let hole = square_hole(64, 20, 40);
    assert_ne!(
        patchmatch_with_seed(&image, &hole, 1),
        patchmatch_with_seed(&image, &hole, 2)
    );
}

#[test]
fn patchmatch_leaves_pixels_outside_the_hole_untouched() {
    let image = scene(80);
    let hole = HoleMask::from_fn(80, 80, |x, y| {
        (x as i32 - 40).pow(2) + (y as i32 - 35).pow(2) < 150 || x == 70
    });
    let filled = patchmatch_with_seed(&image, &hole, 3);
    for (x, y, p) in image.enumerate_pixels() {
        if !hole.is_hole(x, y) {
            assert_eq!(filled.get_pixel(x, y), p, "({x}, {y}) changed");
        }
    }
}

#[test]
fn telea_leaves_pixels_outside_the_hole_untouched() {
    let image = scene(64);
    let hole = square_hole(64, 10, 30);
    let filled = telea::inpaint(&image, &hole, &TeleaSettings::default(), &CancelFlag::new()).expect("fill");
    for (x, y, p) in image.enumerate_pixels() {
        if !hole.is_hole(x, y) {
            assert_eq!(filled.get_pixel(x, y), p, "({x}, {y}) changed");
        }
    }
}

#[test]
fn neither_fill_reads_what_the_hole_held() {
    let hole = square_hole(64, 22, 42);
    let original = scene(64);
    let mut scribbled = original.clone();
    for (x, y, p) in scribbled.enumerate_pixels_mut() {
        if hole.is_hole(x, y) {
            *p = Rgb([255, 0, 255]);
        }
    }
    assert_eq!(
        patchmatch_with_seed(&original, &hole, 5),
        patchmatch_with_seed(&scribbled, &hole, 5)
    );
    let telea = |image: &RgbImage| telea::inpaint(image, &hole, &TeleaSettings::default(), &CancelFlag::new());
    assert_eq!(telea(&original).expect("fill"), telea(&scribbled).expect("fill"));
}

#[test]
fn patchmatch_restores_a_periodic_texture_far_better_than_a_smooth_fill() {
    // benchmark (docs/benchmarks/local.md, `synthetic` rows): ours PatchMatch
    // restores this texture almost exactly, Telea (ours and OpenCV's) stays
    // near 15 dB; 25 dB leaves a wide margin while still needing real texture.
    let image = periodic_texture(96);
    let hole = square_hole(96, 34, 62);
    let settings = PatchMatchSettings::default().with_seed(0);
    let filled = patchmatch::inpaint(&image, &hole, &settings, &CancelFlag::new()).expect("fill");
    let smooth = telea::inpaint(&image, &hole, &TeleaSettings::default(), &CancelFlag::new()).expect("fill");
    let (ours, baseline) = (psnr_inside(&image, &filled, &hole), psnr_inside(&image, &smooth, &hole));
    assert!(ours > 25.0, "PatchMatch PSNR in the hole {ours:.1} dB");
    assert!(
        ours > baseline + 5.0,
        "PatchMatch {ours:.1} dB vs Telea {baseline:.1} dB"
    );
}

#[test]
fn a_hole_in_the_image_corner_is_filled_from_its_surroundings() {
    // A flat area on the left, busy texture on the right; the hole sits in the flat corner.
    let image = RgbImage::from_fn(64, 64, |x, y| {
        if x < 32 {
            Rgb([30, 140, 90])
        } else {
            *scene(64).get_pixel(x, y)
        }
    });
    let hole = HoleMask::from_fn(64, 64, |x, y| x < 10 && y < 10);
    let filled = patchmatch_with_seed(&image, &hole, 0);
    assert!((0..10).all(|x| (0..10).all(|y| *filled.get_pixel(x, y) == Rgb([30, 140, 90]))));
}

#[test]
fn an_image_smaller_than_a_patch_is_filled_by_fast_marching() {
    let image = GrayImage::from_pixel(5, 5, Luma([77]));
    let hole = HoleMask::from_fn(5, 5, |x, y| x == 2 && y == 2);
    let filled = patchmatch::inpaint(&image, &hole, &PatchMatchSettings::default(), &CancelFlag::new()).expect("fill");
    assert_eq!(filled.get_pixel(2, 2)[0], 77);
}

#[test]
fn alpha_is_filled_like_a_colour_channel() {
    let image = RgbaImage::from_fn(48, 48, |x, _| Rgba([200, 100, 50, if x < 24 { 255 } else { 128 }]));
    let hole = HoleMask::from_fn(48, 48, |x, y| (4..14).contains(&x) && (10..30).contains(&y));
    let filled = patchmatch::inpaint(&image, &hole, &PatchMatchSettings::default(), &CancelFlag::new()).expect("fill");
    assert_eq!(*filled.get_pixel(8, 20), Rgba([200, 100, 50, 255]));
}

#[test]
fn a_feathered_mask_blends_the_fill_over_the_original() {
    // A grey area with a black spot of two pixels: one fully masked, one half.
    let image = GrayImage::from_fn(32, 32, |x, y| {
        Luma(if y == 16 && (24..26).contains(&x) { [0] } else { [200] })
    });
    let mut hole = HoleMask::new(32, 32);
    hole.set(24, 16, 255);
    hole.set(25, 16, 128);
    let filled = telea::inpaint(&image, &hole, &TeleaSettings::default(), &CancelFlag::new()).expect("fill");
    assert_eq!(filled.get_pixel(24, 16)[0], 200, "fully masked: the fill");
    assert_eq!(
        filled.get_pixel(25, 16)[0],
        100,
        "half masked: half fill (200), half original (0)"
    );
}

#[test]
fn an_even_patch_size_is_refused_naming_the_option() {
    let image = scene(32);
    let hole = square_hole(32, 10, 20);
    let settings = PatchMatchSettings::default().with_patch_size(8);
    let err = patchmatch::inpaint(&image, &hole, &settings, &CancelFlag::new()).expect_err("even patch");
    assert!(
        matches!(err, Error::InvalidInput { ref param, .. } if param == "option patch_size"),
        "{err}"
    );
    assert!(err.to_string().contains("must be odd"), "{err}");
}

#[test]
fn a_cancelled_patchmatch_fill_returns_cancelled() {
    let flag = CancelFlag::new();
    flag.cancel();
    let err = patchmatch::inpaint(
        &scene(64),
        &square_hole(64, 20, 40),
        &PatchMatchSettings::default(),
        &flag,
    )
    .expect_err("cancelled");
    assert!(matches!(err, Error::Cancelled(_)), "{err}");
}

#[test]
fn an_empty_hole_and_a_full_hole_are_refused() {
    let image = scene(16);
    let settings = PatchMatchSettings::default();
    let empty = patchmatch::inpaint(&image, &HoleMask::new(16, 16), &settings, &CancelFlag::new()).expect_err("empty");
    assert!(empty.to_string().contains("mask is empty: nothing to fill"), "{empty}");
    let full = HoleMask::from_fn(16, 16, |_, _| true);
    let full = telea::inpaint(&image, &full, &TeleaSettings::default(), &CancelFlag::new()).expect_err("full");
    assert!(
        full.to_string()
            .contains("mask covers the whole image: nothing to sample from"),
        "{full}"
    );
}

#[test]
fn patchmatch_continues_a_smooth_ramp_across_a_thin_band_without_a_step() {
    // A horizontal ramp (2 grey levels per column) with a vertical band cut
    // out over the full height: no whole known patch lies at the band's
    // columns, so every match comes from columns further left or right, with
    // a brightness offset. The seam correction (benchmark: up to +0.7 dB on
    // thin strokes) spreads the border's mismatch over the band.
    let image = GrayImage::from_fn(64, 40, |x, _| Luma([(40 + 2 * x) as u8]));
    let hole = HoleMask::from_fn(64, 40, |x, _| (30..34).contains(&x));
    let filled = patchmatch::inpaint(&image, &hole, &PatchMatchSettings::default(), &CancelFlag::new()).expect("fill");
    let worst = (0..40)
        .flat_map(|y| (30..34).map(move |x| (x, y)))
        .map(|(x, y)| (i32::from(filled.get_pixel(x, y)[0]) - i32::from(image.get_pixel(x, y)[0])).abs())
        .max()
        .unwrap_or(0);
    // 4 levels (two columns of the ramp): the last vote copies one patch's
    // pixel instead of averaging many (texture, docs/benchmarks/local.md),
    // so neighbouring pixels keep their sources' small offsets (at most 3 with the mean).
    assert!(worst <= 4, "largest error in the band: {worst} grey levels");
}

#[test]
fn the_centre_of_a_very_deep_hole_does_not_keep_what_the_hole_held() {
    // Depth 160 at the centre: the spatial confidence of its patches used
    // to underflow to 0, so no patch voted there and the hole's own pixels
    // (the object to remove) stayed. Grey 255 appears nowhere outside.
    let side = 400;
    let image = GrayImage::from_fn(side, side, |x, y| {
        let inside = (40..360).contains(&x) && (40..360).contains(&y);
        Luma([if inside { 255 } else { ((x * 5 + y * 3) % 97) as u8 }])
    });
    let hole = square_hole(side, 40, 360);
    let filled = patchmatch::inpaint(&image, &hole, &PatchMatchSettings::default(), &CancelFlag::new()).expect("fill");
    let kept = filled.pixels().filter(|p| p[0] == 255).count();
    assert_eq!(kept, 0, "{kept} pixels still hold the hole's content");
}

/// Sum of squared forward differences (x and y) over the hole's pixels.
fn gradient_energy_inside(image: &GrayImage, hole: &HoleMask) -> f64 {
    let (w, h) = image.dimensions();
    let at = |x: u32, y: u32| f64::from(image.get_pixel(x, y)[0]);
    let mut sum = 0.0;
    for y in 0..h - 1 {
        for x in 0..w - 1 {
            if hole.is_hole(x, y) {
                sum += (at(x + 1, y) - at(x, y)).powi(2) + (at(x, y + 1) - at(x, y)).powi(2);
            }
        }
    }
    sum
}

#[test]
fn patchmatch_keeps_the_roughness_of_a_random_texture() {
    // Noise has no period to restore, so the best a fill can do is copy
    // noise of the same strength. Averaging every covering patch (the EM
    // vote) halves its gradient energy; copying one patch per pixel keeps it.
    let side = 128;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let image = GrayImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Luma([64 + (state % 128) as u8])
    });
    let hole = square_hole(side, 44, 84);
    let filled = patchmatch::inpaint(&image, &hole, &PatchMatchSettings::default(), &CancelFlag::new()).expect("fill");
    let ratio = gradient_energy_inside(&filled, &hole) / gradient_energy_inside(&image, &hole);
    assert!((0.75..=1.33).contains(&ratio), "gradient energy ratio {ratio:.2}");
}
