//! Our side of bench/image/run.sh: times each benchmarked operation and
//! prints one JSON object with the best (smallest) milliseconds of RUNS runs,
//! the figure least disturbed by other work on a shared machine (not a test).
//!
//! Usage: `bench PHOTO_12MP.jpg OUT_DIR RUNS`. Writes the outputs to OUT_DIR
//! so the script can compare them with Pillow's (PSNR).

use std::time::Instant;

use image::DynamicImage;
use msgflux_core::{DecodeLimits, MaskConvention, Size};
use msgflux_image::{CompareOptions, Fit, Mask, PrepareTarget, Rect, prepare_bytes, side_by_side};

fn best_ms<T>(runs: usize, mut op: impl FnMut() -> T) -> (f64, T) {
    let mut last = op(); // warm-up
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        last = std::hint::black_box(op());
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[0], last)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, photo, out_dir, runs] = args.as_slice() else {
        return Err("usage: bench PHOTO_12MP.jpg OUT_DIR RUNS".into());
    };
    let runs: usize = runs.parse()?;
    let out_dir = std::path::Path::new(out_dir);

    // (a) The docs' prepare pipeline: read the file, decode, RGBA, 1024x1024 Lanczos, PNG under 4 MB.
    let target = PrepareTarget::new()
        .with_size(Size::square(1024))
        .with_fit(Fit::Stretch)
        .with_max_bytes(4 * 1024 * 1024);
    let (prepare_ms, prepared) = best_ms(runs, || {
        let bytes = std::fs::read(photo).expect("read the photo");
        prepare_bytes(&bytes, None, &target, &DecodeLimits::default()).expect("prepare")
    });
    std::fs::write(out_dir.join("ours_prepared.png"), &prepared.image_bytes)?;

    // (b) A feathered ellipse mask, 1024x1024, Gaussian sigma 5 (Pillow's box (256, 256, 768, 768) includes 768).
    let (mask_ms, mask) = best_ms(runs, || {
        Mask::ellipse(1024, 1024, Rect::new(256, 256, 513, 513)).feather(5.0)
    });
    std::fs::write(out_dir.join("ours_mask.png"), mask.to_png(MaskConvention::WhiteIsEdit)?)?;

    // (c) Side by side: a 1024x1024 "before" and a 512x512 "after", common height, labels.
    let before = DynamicImage::ImageRgba8(prepared.image.clone());
    let after = before
        .resize_exact(512, 512, image::imageops::FilterType::Triangle)
        .grayscale();
    let options = CompareOptions::new().with_labels(["before", "after"]).with_height(512);
    let (compare_ms, view) = best_ms(runs, || side_by_side(&[&before, &after], &options).expect("compare"));
    view.save(out_dir.join("ours_compare.png"))?;

    println!(
        "{{\"prepare_ms\": {prepare_ms:.2}, \"mask_ms\": {mask_ms:.2}, \"compare_ms\": {compare_ms:.2}, \
         \"prepared_bytes\": {}, \"threads\": {}}}",
        prepared.image_bytes.len(),
        rayon::current_num_threads()
    );
    Ok(())
}
