//! The half-scale decoder against jpeg-decoder, on files jpeg-encoder
//! writes in every layout it supports, and on files it must refuse.

use std::io::Cursor;

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use super::Unreadable;

/// Decodes at half scale, with the size the caller would have checked.
fn decode_half(bytes: &[u8]) -> Result<super::HalfScale, Unreadable> {
    super::decode_half(bytes, stored_size(bytes))
}

/// The frame size as jpeg-decoder reads it, or 0x0 when it cannot.
fn stored_size(bytes: &[u8]) -> (u32, u32) {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    match decoder.read_info().ok().and(decoder.info()) {
        Some(info) => (u32::from(info.width), u32::from(info.height)),
        None => (0, 0),
    }
}

/// Photo-like content: gradients, an edge, fine stripes, a little noise.
fn scene(width: u16, height: u16) -> Vec<u8> {
    let mut pixels = Vec::new();
    let mut seed = 7u32;
    for y in 0..u32::from(height) {
        for x in 0..u32::from(width) {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let noise = (seed >> 28) as u8;
            let stripe = if (x + 2 * y) % 13 < 5 { 30 } else { 0 };
            let edge = if x * 3 > y * 4 { 60 } else { 0 };
            pixels.extend_from_slice(&[
                (x * 2 % 200 + stripe) as u8 + noise,
                (y * 3 % 180 + edge) as u8 + noise,
                ((x + y) % 220) as u8,
            ]);
        }
    }
    pixels
}

struct Options {
    sampling: SamplingFactor,
    restart: u16,
    grey: bool,
    progressive: bool,
}

const PLAIN: Options = Options {
    sampling: SamplingFactor::F_2_2,
    restart: 0,
    grey: false,
    progressive: false,
};

fn jpeg(width: u16, height: u16, options: &Options) -> Vec<u8> {
    let rgb = scene(width, height);
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, 90);
    encoder.set_sampling_factor(options.sampling);
    encoder.set_restart_interval(options.restart);
    encoder.set_progressive(options.progressive);
    if options.grey {
        let grey: Vec<u8> = rgb.chunks_exact(3).map(|p| p[1]).collect();
        encoder.encode(&grey, width, height, ColorType::Luma).expect("encode");
    } else {
        encoder.encode(&rgb, width, height, ColorType::Rgb).expect("encode");
    }
    out
}

/// jpeg-decoder's own half-scale decode of the same file.
fn reference(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().expect("header");
    let info = decoder.info().expect("info");
    let (w, h) = decoder
        .scale(info.width.div_ceil(2), info.height.div_ceil(2))
        .expect("scale");
    (u32::from(w), u32::from(h), decoder.decode().expect("decode"))
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse.max(1e-9)).log10()
}

fn assert_matches_jpeg_decoder(width: u16, height: u16, options: &Options, min_db: f64) {
    let bytes = jpeg(width, height, options);
    let ours = decode_half(&bytes).unwrap_or_else(|e| panic!("{width}x{height}: refused: {e:?}"));
    let (w, h, theirs) = reference(&bytes);
    assert_eq!((ours.width, ours.height), (w, h), "{width}x{height}");
    assert_eq!(ours.channels, if options.grey { 1 } else { 3 });
    let db = psnr(&ours.pixels, &theirs);
    assert!(
        db > min_db,
        "{width}x{height} {:?}: {db:.1} dB from jpeg-decoder",
        options.sampling
    );
}

const SUBSAMPLED: [SamplingFactor; 3] = [SamplingFactor::F_2_1, SamplingFactor::F_1_2, SamplingFactor::F_2_2];

#[test]
fn without_subsampling_the_pixels_are_jpeg_decoders_half_scale_within_rounding() {
    let options = Options {
        sampling: SamplingFactor::F_1_1,
        ..PLAIN
    };
    for (w, h) in [(128, 64), (130, 70), (16, 16)] {
        assert_matches_jpeg_decoder(w, h, &options, 55.0);
    }
}

#[test]
fn a_grey_jpeg_decodes_to_one_channel_as_jpeg_decoder_does() {
    let options = Options { grey: true, ..PLAIN };
    for (w, h) in [(70, 38), (16, 16)] {
        assert_matches_jpeg_decoder(w, h, &options, 55.0);
    }
}

#[test]
fn subsampled_chroma_comes_closer_to_the_unsubsampled_file_than_jpeg_decoders_half_scale() {
    // Chroma is transformed at the size it covers; jpeg-decoder transforms
    // it at a quarter and upsamples, losing half its resolution.
    for (w, h) in [(128, 64), (130, 70)] {
        let full_chroma = Options {
            sampling: SamplingFactor::F_1_1,
            ..PLAIN
        };
        let base = decode_half(&jpeg(w, h, &full_chroma)).expect("4:4:4");
        for sampling in SUBSAMPLED {
            let bytes = jpeg(w, h, &Options { sampling, ..PLAIN });
            let ours = decode_half(&bytes).expect("subsampled");
            let (_, _, theirs) = reference(&bytes);
            let (ours_db, theirs_db) = (psnr(&ours.pixels, &base.pixels), psnr(&theirs, &base.pixels));
            assert!(
                ours_db > theirs_db && ours_db > 30.0,
                "{w}x{h} {sampling:?}: {ours_db:.1} dB, jpeg-decoder {theirs_db:.1}"
            );
        }
    }
}

#[test]
fn every_sampling_decodes_odd_block_counts_to_jpeg_decoders_size() {
    for sampling in SUBSAMPLED {
        for (w, h) in [(70, 38), (130, 34), (16, 16), (18, 18)] {
            assert_matches_jpeg_decoder(w, h, &Options { sampling, ..PLAIN }, 25.0);
        }
    }
}

#[test]
fn a_flat_image_of_any_size_and_sampling_decodes_flat() {
    for sampling in [
        SamplingFactor::F_1_1,
        SamplingFactor::F_2_1,
        SamplingFactor::F_1_2,
        SamplingFactor::F_2_2,
    ] {
        for (w, h) in [(2u16, 2u16), (34, 2), (2, 34), (18, 18), (1, 1), (3, 5)] {
            let flat: Vec<u8> = [200u8, 120, 40].repeat(usize::from(w) * usize::from(h));
            let mut bytes = Vec::new();
            let mut encoder = Encoder::new(&mut bytes, 90);
            encoder.set_sampling_factor(sampling);
            encoder.encode(&flat, w, h, ColorType::Rgb).expect("encode");
            let colour = jpeg_decoder::Decoder::new(Cursor::new(&bytes[..]))
                .decode()
                .expect("full decode");
            let half = decode_half(&bytes).expect("half");
            assert_eq!(
                (half.width, half.height),
                (u32::from(w).div_ceil(2), u32::from(h).div_ceil(2))
            );
            for px in half.pixels.chunks_exact(3) {
                let off = px.iter().zip(&colour[..3]).map(|(&a, &b)| a.abs_diff(b)).max();
                assert!(
                    off <= Some(2),
                    "{w}x{h} {sampling:?}: {px:?} against {:?}",
                    &colour[..3]
                );
            }
        }
    }
}

#[test]
fn restart_markers_give_the_same_pixels_as_none() {
    for (grey, sampling) in [
        (false, SamplingFactor::F_2_2),
        (false, SamplingFactor::F_1_1),
        (true, SamplingFactor::F_1_1),
    ] {
        let plain = Options {
            grey,
            sampling,
            ..PLAIN
        };
        let expected = decode_half(&jpeg(130, 70, &plain)).expect("no restarts").pixels;
        for restart in [1, 3, 7] {
            let options = Options { restart, ..plain };
            let pixels = decode_half(&jpeg(130, 70, &options)).expect("restarts").pixels;
            assert!(pixels == expected, "grey {grey}, {sampling:?}, every {restart} MCUs");
        }
    }
}

#[test]
fn a_frame_of_another_size_than_the_one_checked_is_refused() {
    let bytes = jpeg(64, 48, &PLAIN);
    let refused = super::decode_half(&bytes, (64, 4800)).err();
    assert_eq!(
        refused,
        Some(Unreadable("the frame's size is not the one checked against the limits"))
    );
}

#[test]
fn a_progressive_jpeg_is_refused_as_progressive() {
    let options = Options {
        progressive: true,
        ..PLAIN
    };
    assert_eq!(
        decode_half(&jpeg(64, 64, &options)).err(),
        Some(Unreadable("progressive"))
    );
}

#[test]
fn a_sampling_factor_of_four_is_refused() {
    let options = Options {
        sampling: SamplingFactor::F_4_1,
        ..PLAIN
    };
    let refused = decode_half(&jpeg(64, 64, &options)).err();
    assert_eq!(
        refused,
        Some(Unreadable("a sampling factor above 2 or a bad table index"))
    );
}

#[test]
fn an_adobe_rgb_jpeg_is_refused() {
    let mut bytes = jpeg(32, 32, &PLAIN);
    // An APP14 "Adobe" segment with transform 0 (RGB, no YCbCr) after SOI.
    let mut segment = vec![0xFF, 0xEE, 0, 14];
    segment.extend_from_slice(b"Adobe\x00\x64\x00\x00\x00\x00\x00");
    bytes.splice(2..2, segment);
    assert_eq!(decode_half(&bytes).err(), Some(Unreadable("RGB, not YCbCr")));
}

#[test]
fn a_truncated_scan_is_refused_rather_than_padded() {
    let bytes = jpeg(128, 128, &PLAIN);
    let cut = &bytes[..bytes.len() * 2 / 3];
    assert_eq!(
        decode_half(cut).err(),
        Some(Unreadable("the scan ends before its last block"))
    );
}

#[test]
fn damaged_bytes_anywhere_give_pixels_or_a_refusal_never_a_panic() {
    let options = Options { restart: 2, ..PLAIN };
    let bytes = jpeg(48, 40, &options);
    let mut seed = 1u32;
    for position in 0..bytes.len() {
        for _ in 0..2 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let mut damaged = bytes.clone();
            damaged[position] = (seed >> 24) as u8;
            if let Ok(half) = decode_half(&damaged) {
                assert_eq!(
                    half.pixels.len(),
                    half.width as usize * half.height as usize * half.channels
                );
            }
        }
    }
}

#[test]
fn a_window_of_rows_holds_the_whole_images_rows_and_lets_go_of_the_rest() {
    let bytes = jpeg(200, 300, &PLAIN);
    let whole = decode_half(&bytes).expect("whole");
    let row_bytes = 100 * 3;
    let held_most = super::decode_half_with(&bytes, (200, 300), super::Rows::Window, |rows| {
        let mut held_most = 0;
        for end in (10u32..=150).step_by(10) {
            rows.forget_before(end.saturating_sub(20));
            let (start, window) = rows.decode_until(end).expect("rows");
            assert_eq!(start, end.saturating_sub(20));
            assert!(window.len() >= (end - start) as usize * row_bytes);
            let from = start as usize * row_bytes;
            assert!(window == &whole.pixels[from..from + window.len()], "rows from {start}");
            held_most = held_most.max(window.len());
        }
        held_most
    })
    .expect("decoded");
    // 20 rows asked for, plus at most one MCU row (16 pixels, 8 at half scale) decoded past them.
    assert!(held_most <= 28 * row_bytes, "held {} rows", held_most / row_bytes);
}

#[test]
fn the_whole_image_is_refused_once_rows_were_let_go_of() {
    let bytes = jpeg(64, 64, &PLAIN);
    let refused = super::decode_half_with(&bytes, (64, 64), super::Rows::Window, |rows| {
        rows.decode_until(16).expect("rows");
        rows.forget_before(8);
        rows.take_whole().err()
    })
    .expect("decoded");
    assert_eq!(refused, Some(Unreadable("rows of the image were let go of")));
}
