//! `msgflux_rs.image`: the helpers the msgflux docs write by hand with
//! Pillow, as thin wrappers of `msgflux::image` (no pixel is touched in
//! Python): prepare, mask builders and operations, the before/after picture
//! and the mask-leak report. Every argument that is an image takes the same
//! kinds as a model call (path, URL, bytes, Pillow image, numpy array, ...).

use std::path::PathBuf;

use image::DynamicImage;
use msgflux::image::{self as mfi, PrepareTarget, Rect};
use msgflux::{DecodeLimits, Error, ImageFormat, ImageInput, InputLoader, LoadedImage, Size};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{IntoPyResult, invalid};
use crate::inputs::image_input;
use crate::response::to_python;
use crate::runtime::block_on;

/// dall-e-2's limit, the byte budget the docs' recipe aims under.
const DEFAULT_MAX_BYTES: u64 = 4 * 1024 * 1024;

/// Adds the `image` submodule's native functions and classes.
pub(crate) fn register(parent: &Bound<'_, PyModule>) -> PyResult<()> {
    parent.add_class::<Mask>()?;
    parent.add_class::<Prepared>()?;
    parent.add_function(wrap_pyfunction!(shape_mask, parent)?)?;
    parent.add_function(wrap_pyfunction!(prepare, parent)?)?;
    parent.add_function(wrap_pyfunction!(compare, parent)?)?;
    parent.add_function(wrap_pyfunction!(leak_report, parent)?)?;
    Ok(())
}

/// An edit mask: where to edit, with soft edges. Passed as `mask=` it is sent
/// as a PNG whose transparent pixels (alpha 0) are the area to edit.
#[pyclass(frozen, module = "msgflux_rs.image")]
pub(crate) struct Mask {
    pub(crate) inner: mfi::Mask,
}

impl Mask {
    fn wrap(inner: mfi::Mask) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl Mask {
    /// Reads a mask file; `convention` says how it marks the edit area:
    /// `transparent` (alpha 0 = edit, OpenAI's and msgflux's), `white` or `black`.
    #[staticmethod]
    #[pyo3(signature = (source, convention="transparent"))]
    fn load(py: Python<'_>, source: &Bound<'_, PyAny>, convention: &str) -> PyResult<Self> {
        let convention = mfi::parse_convention(convention).into_py_result()?;
        let file = load(py, image_input(source, "mask")?, "mask")?;
        let mask = py.detach(|| mfi::Mask::decode(&file.bytes, convention, &DecodeLimits::default(), "mask"));
        Ok(Self::wrap(mask.into_py_result()?))
    }

    /// `(width, height)`.
    #[getter]
    fn size(&self) -> (u32, u32) {
        (self.inner.width(), self.inner.height())
    }

    /// The share of pixels edited at all (strength above 0; a feathered edge counts wholly).
    #[getter]
    fn edit_fraction(&self) -> f64 {
        self.inner.edit_fraction()
    }

    /// The smallest `(left, top, right, bottom)` box around the edit area, or `None` when empty.
    #[getter]
    fn bounding_box(&self) -> Option<(u32, u32, u32, u32)> {
        self.inner.bounding_box().map(|r| (r.x, r.y, r.right(), r.bottom()))
    }

    /// Soft edges: a Gaussian blur of `sigma` pixels (the docs' `GaussianBlur(5)`).
    fn feather(&self, py: Python<'_>, sigma: f32) -> Self {
        let mask = self.inner.clone();
        Self::wrap(py.detach(|| mask.feather(sigma)))
    }

    /// Edit everywhere this mask keeps, and keep where it edits.
    fn invert(&self, py: Python<'_>) -> Self {
        let mask = self.inner.clone();
        Self::wrap(py.detach(|| mask.invert()))
    }

    /// Grows the edit area by `radius` pixels.
    fn dilate(&self, py: Python<'_>, radius: u32) -> Self {
        let mask = self.inner.clone();
        Self::wrap(py.detach(|| mask.dilate(radius)))
    }

    /// Shrinks the edit area by `radius` pixels.
    fn erode(&self, py: Python<'_>, radius: u32) -> Self {
        let mask = self.inner.clone();
        Self::wrap(py.detach(|| mask.erode(radius)))
    }

    /// Edits where either mask edits.
    fn union(&self, other: &Mask) -> PyResult<Self> {
        self.inner.clone().union(&other.inner).into_py_result().map(Self::wrap)
    }

    /// The mask as a PNG file in `convention` (default: transparent = edit).
    #[pyo3(signature = (convention="transparent"))]
    fn to_png<'py>(&self, py: Python<'py>, convention: &str) -> PyResult<Bound<'py, PyBytes>> {
        let convention = mfi::parse_convention(convention).into_py_result()?;
        let png = py.detach(|| self.inner.to_png(convention)).into_py_result()?;
        Ok(PyBytes::new(py, &png))
    }

    /// Writes the PNG atomically; returns the path.
    #[pyo3(signature = (path, convention="transparent"))]
    fn save(&self, py: Python<'_>, path: PathBuf, convention: &str) -> PyResult<PathBuf> {
        let convention = mfi::parse_convention(convention).into_py_result()?;
        py.detach(|| {
            let png = self.inner.to_png(convention)?;
            msgflux::write_atomic(&path, &png)
        })
        .into_py_result()?;
        Ok(path)
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.to_png(py, "transparent")
    }

    fn __repr__(&self) -> String {
        format!(
            "<Mask {}x{}, {:.1}% edited>",
            self.inner.width(),
            self.inner.height(),
            self.inner.edit_fraction() * 100.0
        )
    }
}

/// The mask builders behind `msgflux_rs.image.rectangle`, `ellipse` and
/// `polygon` (thin Python functions, so each keeps its own signature):
/// `geometry` is a `(left, top, right, bottom)` box (right and bottom
/// excluded) for a rectangle or the ellipse inscribed in it (as Pillow's
/// `ImageDraw.ellipse`), or `[(x, y), ...]` for a polygon; the canvas is
/// `size=(width, height)` or the size of the image `like`.
#[pyfunction]
#[pyo3(signature = (shape, geometry, size=None, like=None))]
fn shape_mask(
    py: Python<'_>,
    shape: &str,
    geometry: &Bound<'_, PyAny>,
    size: Option<(u32, u32)>,
    like: Option<&Bound<'_, PyAny>>,
) -> PyResult<Mask> {
    let canvas = canvas(py, size, like)?;
    let (width, height) = (canvas.width, canvas.height);
    let mask = match shape {
        "rectangle" => {
            let rect = rect(geometry.extract()?)?;
            py.detach(|| mfi::Mask::rectangle(width, height, rect))
        }
        "ellipse" => {
            let rect = rect(geometry.extract()?)?;
            py.detach(|| mfi::Mask::ellipse(width, height, rect))
        }
        "polygon" => {
            let points: Vec<(f32, f32)> = geometry.extract()?;
            if points.len() < 3 {
                return Err(invalid(
                    "points",
                    format!("a polygon needs at least 3 points, got {}", points.len()),
                ));
            }
            py.detach(|| mfi::Mask::polygon(width, height, &points))
        }
        other => return Err(invalid("shape", format!("unknown shape `{other}`"))),
    };
    Ok(Mask::wrap(mask))
}

/// A prepared image (and mask): the file bytes and what was changed.
#[pyclass(frozen, module = "msgflux_rs.image")]
pub(crate) struct Prepared {
    image: Vec<u8>,
    mask: Option<Vec<u8>>,
    report: mfi::PrepareReport,
}

#[pymethods]
impl Prepared {
    /// The prepared image file.
    #[getter]
    fn image<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.image)
    }

    /// The prepared mask (PNG, transparent = edit), placed like the image; `None` without a mask.
    #[getter]
    fn mask<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.mask.as_ref().map(|m| PyBytes::new(py, m))
    }

    /// What was done, in words (`resized 4000x3000 -> 1024x1024 (stretch)`, ...).
    #[getter]
    fn changes(&self) -> Vec<String> {
        self.report.changes.clone()
    }

    /// The whole report: original and prepared summaries, placement, encode attempts.
    #[getter]
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.report)
    }

    /// Writes the image (and, given `mask_path`, the mask) atomically; returns `path`.
    #[pyo3(signature = (path, mask_path=None))]
    fn save(&self, py: Python<'_>, path: PathBuf, mask_path: Option<PathBuf>) -> PyResult<PathBuf> {
        py.detach(|| {
            msgflux::write_atomic(&path, &self.image)?;
            match (&mask_path, &self.mask) {
                (Some(mask_path), Some(mask)) => msgflux::write_atomic(mask_path, mask),
                (Some(_), None) => Err(Error::invalid("mask_path", "there is no mask to save")),
                (None, _) => Ok(()),
            }
        })
        .into_py_result()?;
        Ok(path)
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.image(py)
    }
}

/// Prepares an image for a provider, the docs' Pillow recipe in one call:
/// RGBA, `size` (a side or `(width, height)`; `None` keeps it), Lanczos,
/// `fit` (`stretch` as the docs do, `pad`, `crop`, ...), `format`, under
/// `max_bytes`. A `mask` is placed the same way. With `output`, the image is
/// also written there.
#[pyfunction]
#[pyo3(signature = (image, output=None, *, size=Some(SizeArg::Side(1024)), fit="stretch", format="png", max_bytes=Some(DEFAULT_MAX_BYTES), mask=None))]
#[allow(clippy::too_many_arguments)]
fn prepare(
    py: Python<'_>,
    image: &Bound<'_, PyAny>,
    output: Option<PathBuf>,
    size: Option<SizeArg>,
    fit: &str,
    format: &str,
    max_bytes: Option<u64>,
    mask: Option<&Bound<'_, PyAny>>,
) -> PyResult<Prepared> {
    let mut target = PrepareTarget::new()
        .with_fit(fit.parse().into_py_result()?)
        .with_format(
            ImageFormat::from_name(format)
                .ok_or_else(|| invalid("format", format!("unknown image format `{format}`")))?,
        );
    if let Some(size) = size {
        target = target.with_size(match size {
            SizeArg::Side(side) => Size::square(side),
            SizeArg::Pair(width, height) => Size::new(width, height),
        });
    }
    if let Some(max_bytes) = max_bytes {
        target = target.with_max_bytes(max_bytes);
    }
    let image_file = load(py, image_input(image, "image")?, "image")?;
    let mask_file = mask.map(|m| load(py, mask_input(m)?, "mask")).transpose()?;
    let prepared = py
        .detach(|| {
            mfi::prepare_bytes(
                &image_file.bytes,
                mask_file.as_ref().map(|m| &m.bytes[..]),
                &target,
                &DecodeLimits::default(),
            )
        })
        .into_py_result()?;
    let prepared = Prepared {
        image: prepared.image_bytes,
        mask: prepared.mask_bytes,
        report: prepared.report,
    };
    if let Some(output) = output {
        prepared.save(py, output, None)?;
    }
    Ok(prepared)
}

/// `1024` or `(1024, 768)`.
#[derive(FromPyObject)]
enum SizeArg {
    Side(u32),
    Pair(u32, u32),
}

impl<'py> IntoPyObject<'py> for SizeArg {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Self::Side(side) => Ok(side.into_pyobject(py)?.into_any()),
            Self::Pair(width, height) => (width, height).into_pyobject(py).map(Bound::into_any),
        }
    }
}

/// The before/after picture, as a PNG file: two labelled panels, the mask's
/// edge outlined on both when a mask is given. With `output`, also written there.
#[pyfunction]
#[pyo3(signature = (before, after, mask=None, output=None))]
fn compare<'py>(
    py: Python<'py>,
    before: &Bound<'py, PyAny>,
    after: &Bound<'py, PyAny>,
    mask: Option<&Bound<'py, PyAny>>,
    output: Option<PathBuf>,
) -> PyResult<Bound<'py, PyBytes>> {
    let before = decoded(py, before, "before")?;
    let after = decoded(py, after, "after")?;
    let mask = mask.map(|m| edit_mask(py, m)).transpose()?;
    let png = py
        .detach(|| {
            let png = mfi::before_after_png(&before, &after, mask)?;
            if let Some(output) = &output {
                msgflux::write_atomic(output, &png)?;
            }
            Ok::<_, Error>(png)
        })
        .into_py_result()?;
    Ok(PyBytes::new(py, &png))
}

/// How much `after` changed outside the mask compared with `before`: a dict
/// with `changed_fraction`, `mean_change_outside`, `max_change_outside`, ...
/// A channel that moved by more than `threshold` levels counts as changed.
#[pyfunction]
#[pyo3(signature = (before, after, mask, threshold=mfi::DEFAULT_LEAK_THRESHOLD))]
fn leak_report<'py>(
    py: Python<'py>,
    before: &Bound<'py, PyAny>,
    after: &Bound<'py, PyAny>,
    mask: &Bound<'py, PyAny>,
    threshold: u8,
) -> PyResult<Bound<'py, PyAny>> {
    let before = decoded(py, before, "before")?;
    let after = decoded(py, after, "after")?;
    let mask = edit_mask(py, mask)?;
    let report = py
        .detach(|| mfi::leak_report(&before, &after, &mask, threshold))
        .into_py_result()?;
    to_python(py, &report)
}

/// A `Mask`, or any image input read as a transparent = edit mask.
fn edit_mask(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<mfi::Mask> {
    if let Ok(mask) = value.cast::<Mask>() {
        return Ok(mask.get().inner.clone());
    }
    Ok(Mask::load(py, value, "transparent")?.inner)
}

/// A mask argument as an input (a `Mask` becomes its PNG).
fn mask_input(value: &Bound<'_, PyAny>) -> PyResult<ImageInput> {
    image_input(value, "mask")
}

/// Loads an input (paths, URLs, ...) with the GIL released.
fn load(py: Python<'_>, input: ImageInput, what: &str) -> PyResult<LoadedImage> {
    let loader = InputLoader::default();
    block_on(py, loader.load(&input, what))?.into_py_result()
}

/// Loads and decodes an input safely (limits, EXIF orientation).
fn decoded(py: Python<'_>, value: &Bound<'_, PyAny>, what: &str) -> PyResult<DynamicImage> {
    let file = load(py, image_input(value, what)?, what)?;
    let decoded = py.detach(|| mfi::decode(&file.bytes, &DecodeLimits::default(), what));
    Ok(decoded.into_py_result()?.image)
}

/// The canvas of a mask builder: `size`, or the size of the image `like`.
fn canvas(py: Python<'_>, size: Option<(u32, u32)>, like: Option<&Bound<'_, PyAny>>) -> PyResult<Size> {
    match (size, like) {
        (Some((width, height)), None) => Ok(Size::new(width, height)),
        (None, Some(like)) => {
            let file = load(py, image_input(like, "like")?, "like")?;
            Ok(Size::new(file.width, file.height))
        }
        _ => Err(invalid(
            "size",
            "give exactly one of size=(width, height) and like=image",
        )),
    }
}

/// `(left, top, right, bottom)` → a rectangle.
fn rect((left, top, right, bottom): (u32, u32, u32, u32)) -> PyResult<Rect> {
    if right <= left || bottom <= top {
        return Err(invalid(
            "box",
            format!(
                "({left}, {top}, {right}, {bottom}) is empty; give (left, top, right, bottom) with right > left and bottom > top"
            ),
        ));
    }
    Ok(Rect::new(left, top, right - left, bottom - top))
}
