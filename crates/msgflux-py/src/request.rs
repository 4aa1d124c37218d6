//! Call arguments → [`EditRequest`]: `model(prompt, image, mask, n=..., ...)`,
//! `acall` and every `map_gather` item go through this one function.
//!
//! Keywords the request knows are read; every other keyword is a provider
//! option, checked against the model's option table before anything is
//! sent (an unknown option is an error, never dropped).

use std::time::Duration;

use msgflux::{EditRequest, OptionValue, OutputSize, ResponseFormat};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::errors::{IntoPyResult, invalid};
use crate::inputs::image_input;

/// The positional parameters, in order.
const POSITIONAL: [&str; 3] = ["prompt", "image", "mask"];

/// The request that `args` (`prompt, image, mask`, any prefix) and `kwargs` describe.
pub(crate) fn edit_request(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<EditRequest> {
    if args.len() > POSITIONAL.len() {
        return Err(invalid(
            "args",
            format!(
                "takes at most 3 positional arguments (prompt, image, mask), got {}",
                args.len()
            ),
        ));
    }
    let named = PyDict::new(args.py());
    for (name, value) in POSITIONAL.iter().zip(args.iter()) {
        named.set_item(name, value)?;
    }
    if let Some(kwargs) = kwargs {
        for (name, value) in kwargs.iter() {
            let name: String = name.extract()?;
            if named.contains(&name)? {
                return Err(invalid(&name, "given both positionally and by keyword"));
            }
            named.set_item(name, value)?;
        }
    }

    let prompt: String = match named.get_item("prompt")? {
        Some(prompt) => prompt.extract()?,
        None => return Err(invalid("prompt", "is required")),
    };
    let mut request = EditRequest::new(prompt);
    for (name, value) in named.iter() {
        let name: String = name.extract()?;
        if value.is_none() {
            continue;
        }
        request = match name.as_str() {
            "prompt" => request,
            "image" => with_images(request, &value)?,
            "mask" => request.mask(image_input(&value, "mask")?),
            "n" => request.n(value.extract()?),
            "size" => request.size(output_size(&value)?),
            "response_format" => {
                let format: String = value.extract()?;
                request.response_format(format.parse::<ResponseFormat>().into_py_result()?)
            }
            "seed" => request.seed(value.extract()?),
            "keep_unmasked" => request.keep_unmasked(value.extract()?),
            "prepare" => request.prepare(value.extract()?),
            "timeout" => request.timeout(seconds(&value, "timeout")?),
            "on_progress" => {
                if !value.is_callable() {
                    return Err(invalid(
                        "on_progress",
                        "must be callable (it receives one dict per step)",
                    ));
                }
                request.on_progress(crate::progress::forward_to(value.clone().unbind()))
            }
            option => request.option(option, option_value(&value, option)?),
        };
    }
    Ok(request)
}

/// One image, or a list/tuple of them (models that take several).
fn with_images(request: EditRequest, value: &Bound<'_, PyAny>) -> PyResult<EditRequest> {
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let items: Vec<Bound<'_, PyAny>> = value.extract()?;
        let count = items.len();
        let inputs = items
            .iter()
            .enumerate()
            .map(|(i, item)| image_input(item, &msgflux::kit::image_param(i, count)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(request.images(inputs))
    } else {
        Ok(request.image(image_input(value, "image")?))
    }
}

/// `"1024x1024"`, `"auto"` or `(width, height)`.
fn output_size(value: &Bound<'_, PyAny>) -> PyResult<OutputSize> {
    if let Ok(text) = value.cast::<PyString>() {
        return text.to_cow()?.parse::<OutputSize>().into_py_result();
    }
    let (width, height): (u32, u32) = value
        .extract()
        .map_err(|_| invalid("size", "expected \"WIDTHxHEIGHT\", \"auto\" or (width, height)"))?;
    Ok(OutputSize::from(msgflux::Size::new(width, height)))
}

/// A positive number of seconds.
pub(crate) fn seconds(value: &Bound<'_, PyAny>, param: &str) -> PyResult<Duration> {
    let secs: f64 = value.extract()?;
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| invalid(param, format!("must be a positive number of seconds, got {secs}")))
}

/// A provider option's value, typed as Python typed it.
fn option_value(value: &Bound<'_, PyAny>, name: &str) -> PyResult<OptionValue> {
    // bool before int: Python's bool is an int.
    if value.is_instance_of::<PyBool>() {
        Ok(OptionValue::Bool(value.extract()?))
    } else if value.is_instance_of::<PyInt>() {
        Ok(OptionValue::Integer(value.extract()?))
    } else if value.is_instance_of::<PyFloat>() {
        Ok(OptionValue::Number(value.extract()?))
    } else if let Ok(text) = value.cast::<PyString>() {
        Ok(OptionValue::Text(text.to_cow()?.to_string()))
    } else {
        Err(invalid(
            &format!("option {name}"),
            format!("must be a bool, int, float or str, got `{}`", value.get_type().name()?),
        ))
    }
}
