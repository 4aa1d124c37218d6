//! Decodes one JPEG with jpeg-decoder at 1/2 scale (what `msgflux prepare`
//! does), mozjpeg (libjpeg-turbo) at 4/8 and zune-jpeg in full, and prints
//! each one's best of RUNS. Under `perf record`, the share of each decoder's
//! entropy decoding shows which part no scale avoids.
//!
//!     cargo run --release --manifest-path bench/jpeg-decoders/Cargo.toml -- FILE.jpg [RUNS]
//!
//! With SCALE_EIGHTHS and OUT set it writes one decode instead (see scales.py).

use std::time::{Duration, Instant};

fn best_of(runs: usize, mut decode: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut bytes = 0;
    for _ in 0..runs {
        let started = Instant::now();
        bytes = decode();
        best = best.min(started.elapsed());
    }
    (best, bytes)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: jpeg-decoders-bench FILE.jpg [RUNS]");
    let runs: usize = args.next().map_or(3, |r| r.parse().expect("RUNS is a number"));
    let file = std::fs::read(&path).expect("read the file");
    // SCALE_EIGHTHS=N OUT=FILE.ppm [DECODER=jpeg-decoder]: write one decode at N/8
    // of each side instead of timing (scales.py compares their quality).
    if let (Ok(n), Ok(out)) = (std::env::var("SCALE_EIGHTHS"), std::env::var("OUT")) {
        let n: u16 = n.parse().expect("SCALE_EIGHTHS is a number of eighths");
        let (w, h, pixels) = if std::env::var("DECODER").is_ok_and(|d| d == "jpeg-decoder") {
            let mut decoder = jpeg_decoder::Decoder::new(std::io::Cursor::new(&file));
            decoder.read_info().expect("jpeg-decoder header");
            let info = decoder.info().expect("frame");
            let (w, h) = decoder.scale(info.width * n / 8, info.height * n / 8).expect("scale");
            (usize::from(w), usize::from(h), decoder.decode().expect("jpeg-decoder"))
        } else {
            let mut decoder = mozjpeg::Decompress::new_mem(&file).expect("mozjpeg header");
            decoder.scale(u8::try_from(n).expect("SCALE_EIGHTHS is 1-16"));
            let mut started = decoder.rgb().expect("mozjpeg start");
            let (w, h) = (started.width(), started.height());
            (w, h, started.read_scanlines().expect("mozjpeg"))
        };
        let mut ppm = format!("P6\n{w} {h}\n255\n").into_bytes();
        ppm.extend_from_slice(&pixels);
        std::fs::write(out, ppm).expect("write the PPM file");
        return;
    }

    let (time, bytes) = best_of(runs, || {
        let mut decoder = jpeg_decoder::Decoder::new(std::io::Cursor::new(&file));
        decoder.read_info().expect("jpeg-decoder header");
        let info = decoder.info().expect("frame");
        decoder.scale(info.width / 2, info.height / 2).expect("scale");
        decoder.decode().expect("jpeg-decoder").len()
    });
    println!(
        "jpeg-decoder, 1/2 scale: {:.1} ms, {bytes} bytes of pixels",
        time.as_secs_f64() * 1e3
    );

    let (time, bytes) = best_of(runs, || {
        let mut decoder = mozjpeg::Decompress::new_mem(&file).expect("mozjpeg header");
        decoder.scale(4);
        let mut started = decoder.rgb().expect("mozjpeg start");
        let pixels: Vec<[u8; 3]> = started.read_scanlines().expect("mozjpeg");
        started.finish().expect("mozjpeg finish");
        pixels.len() * 3
    });
    println!(
        "mozjpeg (libjpeg-turbo), 4/8 scale: {:.1} ms, {bytes} bytes of pixels",
        time.as_secs_f64() * 1e3
    );

    let (time, bytes) = best_of(runs, || {
        zune_jpeg::JpegDecoder::new(&file).decode().expect("zune-jpeg").len()
    });
    println!(
        "zune-jpeg, full size: {:.1} ms, {bytes} bytes of pixels",
        time.as_secs_f64() * 1e3
    );
}
