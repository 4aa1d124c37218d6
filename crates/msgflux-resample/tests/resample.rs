//! The crate's behaviour, tested from outside: an integration test links the
//! compiled library instead of compiling its kernels a second time with
//! `--test` (the reason for `[lib] test = false`).

use msgflux_resample::{Filter, Layout, Region, resample};

#[test]
fn a_flat_colour_stays_flat_through_lanczos() {
    let px = [10u8, 20, 30, 255].repeat(8 * 8);
    let out = resample(&px, Layout::Rgba, (8, 8), Region::whole(8, 8), (3, 5), Filter::Lanczos3).unwrap();
    assert_eq!(out, [10u8, 20, 30, 255].repeat(15));
}

#[test]
fn the_region_alone_is_scaled() {
    // Four black columns, then eight white: a region well inside the
    // white part (the filter reads a pixel or two around it) stays white.
    let mut px = vec![0u8; 12 * 4];
    for row in px.chunks_mut(12) {
        row[4..].fill(255);
    }
    let region = Region {
        x: 6,
        y: 0,
        width: 4,
        height: 4,
    };
    let out = resample(&px, Layout::Gray, (12, 4), region, (2, 2), Filter::Bilinear).unwrap();
    assert_eq!(out, vec![255; 4]);
}

#[test]
fn a_buffer_of_the_wrong_length_is_refused() {
    let err = resample(
        &[0; 5],
        Layout::Rgb,
        (2, 1),
        Region::whole(2, 1),
        (1, 1),
        Filter::Bilinear,
    )
    .unwrap_err();
    assert!(err.to_string().contains("5 bytes"), "{err}");
}

#[test]
fn a_zero_side_is_refused() {
    let err = resample(
        &[0; 4],
        Layout::Gray,
        (2, 2),
        Region::whole(2, 2),
        (0, 1),
        Filter::Bilinear,
    )
    .unwrap_err();
    assert!(err.to_string().contains("zero"), "{err}");
}

/// A noisy 37x29 RGB image: every row differs, so a misplaced band shows.
fn noisy_rgb() -> Vec<u8> {
    (0..37 * 29 * 3)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

#[test]
fn bands_scaled_one_at_a_time_make_the_whole_image() {
    let px = noisy_rgb();
    let (size, region, dst) = ((37, 29), Region::whole(37, 29), (16, 13));
    let whole = resample(&px, Layout::Rgb, size, region, dst, Filter::Lanczos3).unwrap();
    let mut banded = Vec::new();
    for rows in [0..5, 5..6, 6..13] {
        let mut band = vec![0u8; 16 * rows.len() * 3];
        msgflux_resample::resample_rows_into(&px, Layout::Rgb, size, region, dst, rows, &mut band, Filter::Lanczos3)
            .unwrap();
        banded.extend(band);
    }
    assert_eq!(banded, whole);
}

#[test]
fn a_band_beyond_the_last_row_is_refused() {
    let px = noisy_rgb();
    let mut band = vec![0u8; 16 * 3 * 3];
    let err = msgflux_resample::resample_rows_into(
        &px,
        Layout::Rgb,
        (37, 29),
        Region::whole(37, 29),
        (16, 13),
        11..14,
        &mut band,
        Filter::Lanczos3,
    )
    .unwrap_err();
    assert!(err.to_string().contains("rows 11..14"), "{err}");
}

/// A noisy image of any size and layout.
fn noisy(width: u32, height: u32, layout: Layout) -> Vec<u8> {
    (0..width * height * layout.channels() as u32)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

#[test]
fn a_band_scaled_from_only_the_source_rows_it_reads_equals_the_band_scaled_from_all_of_them() {
    use msgflux_resample::{resample_rows_from_window, resample_rows_into, source_rows_read};
    // Shrinking as prepare does (1416 -> 1024 rows, scaled down), by 3, a
    // region lower in the image (the filter reads past it), and enlarging;
    // both filters, every layout.
    let cases = [
        ((53u32, 141u32), Region::whole(53, 141), (40u32, 102u32)),
        ((60, 90), Region::whole(60, 90), (20, 30)),
        (
            (48, 80),
            Region {
                x: 4,
                y: 17,
                width: 40,
                height: 50,
            },
            (30, 21),
        ),
        ((20, 24), Region::whole(20, 24), (33, 61)),
    ];
    for (size, region, dst) in cases {
        for layout in [Layout::Gray, Layout::Rgb, Layout::Rgba] {
            for filter in [Filter::Lanczos3, Filter::Bilinear] {
                let px = noisy(size.0, size.1, layout);
                let row_bytes = size.0 as usize * layout.channels();
                let out_row = dst.0 as usize * layout.channels();
                let band_rows = dst.1.div_ceil(7);
                for start in (0..dst.1).step_by(band_rows as usize) {
                    let rows = start..(start + band_rows).min(dst.1);
                    let read = source_rows_read(size.1, region, dst.1, rows.clone(), filter);
                    let mut from_window = vec![0u8; out_row * rows.len()];
                    let window = &px[read.start as usize * row_bytes..read.end as usize * row_bytes];
                    resample_rows_from_window(
                        window,
                        read.start,
                        layout,
                        size,
                        region,
                        dst,
                        rows.clone(),
                        &mut from_window,
                        filter,
                    )
                    .unwrap();
                    let mut from_all = vec![0u8; out_row * rows.len()];
                    resample_rows_into(&px, layout, size, region, dst, rows.clone(), &mut from_all, filter).unwrap();
                    assert!(
                        from_window == from_all,
                        "{size:?} {region:?} -> {dst:?}, {layout:?} {filter:?}, rows {rows:?} from source rows {read:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_band_given_fewer_source_rows_than_it_reads_is_refused() {
    let px = noisy(40, 80, Layout::Gray);
    let mut band = vec![0u8; 20 * 10];
    let err = msgflux_resample::resample_rows_from_window(
        &px[..40 * 20],
        0,
        Layout::Gray,
        (40, 80),
        Region::whole(40, 80),
        (20, 40),
        0..10,
        &mut band,
        Filter::Lanczos3,
    )
    .unwrap_err();
    assert!(err.to_string().contains("only 0..20 are there"), "{err}");
}

#[test]
fn a_band_whose_window_starts_below_the_rows_it_reads_is_refused() {
    let px = noisy(40, 80, Layout::Gray);
    let mut band = vec![0u8; 20 * 10];
    // Rows 20..30 of the result read from about source row 33; the window starts at 50.
    let err = msgflux_resample::resample_rows_from_window(
        &px[50 * 40..],
        50,
        Layout::Gray,
        (40, 80),
        Region::whole(40, 80),
        (20, 40),
        20..30,
        &mut band,
        Filter::Lanczos3,
    )
    .unwrap_err();
    assert!(err.to_string().contains("only 50..80 are there"), "{err}");
}

#[test]
fn a_band_ending_at_the_last_row_held_is_not_pushed_past_it_by_rounding() {
    use msgflux_resample::{resample_rows_from_window, resample_rows_into, source_rows_read};
    // 300 -> 250 rows: the last band's crop, 268.8 + 31.2 rows, summed to
    // just over 36 rows in a window of 36 before its height was clamped.
    let (size, dst, rows) = ((8u32, 300u32), (6u32, 250u32), 224..250);
    let px = noisy(size.0, size.1, Layout::Gray);
    let region = Region::whole(size.0, size.1);
    let read = source_rows_read(size.1, region, dst.1, rows.clone(), Filter::Lanczos3);
    let window = &px[read.start as usize * 8..];
    let mut from_window = vec![0u8; 6 * rows.len()];
    resample_rows_from_window(
        window,
        read.start,
        Layout::Gray,
        size,
        region,
        dst,
        rows.clone(),
        &mut from_window,
        Filter::Lanczos3,
    )
    .unwrap();
    let mut from_all = vec![0u8; 6 * rows.len()];
    resample_rows_into(
        &px,
        Layout::Gray,
        size,
        region,
        dst,
        rows,
        &mut from_all,
        Filter::Lanczos3,
    )
    .unwrap();
    assert_eq!(from_window, from_all);
}
