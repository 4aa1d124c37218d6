//! Every kind of image a Python caller hands over, turned into an
//! [`ImageInput`] while the GIL is held (nothing here touches the network).
//!
//! Strings keep the Rust rules (URL, `data:` URI, existing path, bare base64,
//! else a path that then fails as "file not found"). Pillow images and numpy
//! arrays are recognised by their interfaces, so neither package is needed.

use std::path::PathBuf;
use std::sync::Arc;

use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};
use msgflux::{ImageInput, MaskConvention};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};

use crate::errors::{IntoPyResult, invalid};
use crate::image::Mask;

/// The input `value` given as parameter `param` (`image`, `image[1]`, `mask`).
pub(crate) fn image_input(value: &Bound<'_, PyAny>, param: &str) -> PyResult<ImageInput> {
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(ImageInput::from(text.to_cow()?.as_ref()));
    }
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(ImageInput::from(bytes.as_bytes().to_vec()));
    }
    if value.is_instance_of::<PyByteArray>() || value.is_instance_of::<PyMemoryView>() {
        let bytes: Vec<u8> = value
            .call_method0("__bytes__")
            .or_else(|_| bytes_of(value))?
            .extract()?;
        return Ok(ImageInput::from(bytes));
    }
    if let Ok(mask) = value.cast::<Mask>() {
        let png = mask
            .get()
            .inner
            .to_png(MaskConvention::TransparentIsEdit)
            .into_py_result()?;
        return Ok(ImageInput::from(png));
    }
    if value.hasattr("__fspath__")? {
        let path: PathBuf = value.extract()?;
        return Ok(ImageInput::Path(path));
    }
    if value.hasattr("read")? {
        return file_object(value, param);
    }
    if is_pillow_image(value)? {
        return pillow_image(value, param);
    }
    if value.hasattr("__array_interface__")? {
        return numpy_array(value, param);
    }
    Err(invalid(
        param,
        format!(
            "cannot use a `{}` as an image; give a path, URL, data URI, base64, bytes, a file object, a Pillow image or a numpy array",
            value.get_type().name()?
        ),
    ))
}

/// `bytes(value)`, for buffers without `__bytes__`.
fn bytes_of<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    value.py().get_type::<PyBytes>().call1((value,))
}

/// An open binary file (or `io.BytesIO`): read to the end; its `name`, when
/// it has one, names the part sent to the provider.
fn file_object(value: &Bound<'_, PyAny>, param: &str) -> PyResult<ImageInput> {
    let content = value.call_method0("read")?;
    let Ok(bytes) = content.cast::<PyBytes>() else {
        return Err(invalid(
            param,
            "the file object returned text; open the image in binary mode (\"rb\")",
        ));
    };
    let filename = value
        .getattr("name")
        .ok()
        .and_then(|name| name.extract::<PathBuf>().ok())
        .and_then(|path| path.file_name().map(|name| name.to_string_lossy().into_owned()));
    Ok(ImageInput::Bytes {
        bytes: bytes.as_bytes().to_vec().into(),
        filename,
    })
}

fn is_pillow_image(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    let module: String = value.get_type().getattr("__module__")?.extract()?;
    Ok(module.starts_with("PIL.") && value.hasattr("tobytes")? && value.hasattr("mode")?)
}

/// A Pillow image, by its raw pixels: modes this workspace reads directly
/// are copied as they are, others are converted to RGBA by Pillow first.
fn pillow_image(value: &Bound<'_, PyAny>, param: &str) -> PyResult<ImageInput> {
    let mode: String = value.getattr("mode")?.extract()?;
    let value = match mode.as_str() {
        "RGB" | "RGBA" | "L" | "LA" => value.clone(),
        _ => value.call_method1("convert", ("RGBA",))?,
    };
    let mode: String = value.getattr("mode")?.extract()?;
    let (width, height): (u32, u32) = value.getattr("size")?.extract()?;
    let pixels: Vec<u8> = value.call_method0("tobytes")?.extract()?;
    let channels = match mode.as_str() {
        "L" => 1,
        "LA" => 2,
        "RGB" => 3,
        _ => 4,
    };
    raw_image(width, height, channels, pixels, param)
}

/// A numpy array of `uint8`, `HxW` (grey) or `HxWxC` with C = 1, 2, 3 or 4.
fn numpy_array(value: &Bound<'_, PyAny>, param: &str) -> PyResult<ImageInput> {
    let dtype: String = value.getattr("dtype")?.getattr("str")?.extract()?;
    if dtype != "|u1" {
        return Err(invalid(
            param,
            format!("is an array of {dtype}; give uint8 pixels (HxW, HxWx3 or HxWx4)"),
        ));
    }
    let shape: Vec<usize> = value.getattr("shape")?.extract()?;
    let (height, width, channels) = match shape[..] {
        [h, w] => (h, w, 1),
        [h, w, c] if (1..=4).contains(&c) => (h, w, c),
        _ => {
            return Err(invalid(
                param,
                format!("is an array of shape {shape:?}; give HxW, HxWx3 or HxWx4"),
            ));
        }
    };
    // `tobytes()` is C order whatever the array's strides.
    let pixels: Vec<u8> = value.call_method0("tobytes")?.extract()?;
    let side = |n: usize| u32::try_from(n).map_err(|_| invalid(param, format!("is {n} pixels along one side")));
    raw_image(side(width)?, side(height)?, channels, pixels, param)
}

fn raw_image(width: u32, height: u32, channels: usize, pixels: Vec<u8>, param: &str) -> PyResult<ImageInput> {
    let image = match channels {
        1 => GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8),
        2 => GrayAlphaImage::from_raw(width, height, pixels).map(DynamicImage::ImageLumaA8),
        3 => RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8),
        _ => RgbaImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgba8),
    };
    image
        .map(|image| ImageInput::Image(Arc::new(image)))
        .ok_or_else(|| invalid(param, format!("has fewer pixels than {width}x{height}x{channels}")))
}
