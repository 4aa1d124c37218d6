//! The crate's integration tests, one binary (one link) with a module per topic.

mod compare;
mod composite;
mod conventions;
mod hostile;
mod masks;
mod png_source;
mod prepare;
mod reduced;

/// Peak signal-to-noise ratio of two same-sized RGBA images, in dB (about 90 for identical ones).
fn psnr(a: &image::RgbaImage, b: &image::RgbaImage) -> f64 {
    let mse = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&p, &q)| (p as f64 - q as f64).powi(2))
        .sum::<f64>()
        / a.as_raw().len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
}

/// An EXIF block holding one tag: the orientation.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(b"II*\0");
    exif.extend_from_slice(&8u32.to_le_bytes());
    exif.extend_from_slice(&1u16.to_le_bytes());
    exif.extend_from_slice(&0x0112u16.to_le_bytes());
    exif.extend_from_slice(&3u16.to_le_bytes());
    exif.extend_from_slice(&1u32.to_le_bytes());
    exif.extend_from_slice(&value.to_le_bytes());
    exif.extend_from_slice(&[0, 0]);
    exif.extend_from_slice(&0u32.to_le_bytes());
    exif
}
