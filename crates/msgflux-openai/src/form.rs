//! The one conversion from a loaded request to the `multipart/form-data`
//! body of `POST images/edits`. The field list is plain data (so tests can
//! read it); [`to_form`] turns it into a fresh `reqwest` form for each attempt.

use bytes::Bytes;
use msgflux_core::kit::LoadedRequest;
use msgflux_core::{Error, LoadedImage, OptionValue, ResponseFormat, Result};
use reqwest::multipart::{Form, Part};

use crate::models::ModelFamily;

/// One multipart field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    /// The field name (`image`, `image[]`, `mask`, `prompt`, ...).
    pub name: String,
    /// Its content.
    pub value: FieldValue,
}

/// A text value or a file part.
#[derive(Clone, PartialEq)]
pub(crate) enum FieldValue {
    Text(String),
    File {
        filename: String,
        mime: &'static str,
        bytes: Bytes,
    },
}

impl std::fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(t) => f.debug_tuple("Text").field(t).finish(),
            Self::File { filename, mime, bytes } => write!(f, "File({filename}, {mime}, {} bytes)", bytes.len()),
        }
    }
}

#[cfg(test)]
impl FieldValue {
    /// The text, if this is a text field.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t),
            Self::File { .. } => None,
        }
    }
}

/// What the body carries besides the request itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FormSettings<'a> {
    /// The `model` field, when the endpoint wants one (not on Azure).
    pub model: Option<&'a str>,
    /// The API family, which decides `response_format`.
    pub family: ModelFamily,
    /// Whether to ask for server-sent events.
    pub stream: bool,
}

fn text(name: &str, value: impl Into<String>) -> Field {
    Field {
        name: name.to_string(),
        value: FieldValue::Text(value.into()),
    }
}

fn file(name: &str, image: &LoadedImage) -> Field {
    Field {
        name: name.to_string(),
        value: FieldValue::File {
            filename: image.filename.clone(),
            mime: image.mime(),
            bytes: image.bytes.clone(),
        },
    }
}

fn option_text(value: &OptionValue) -> String {
    match value {
        OptionValue::Text(t) => t.clone(),
        OptionValue::Integer(v) => v.to_string(),
        OptionValue::Number(v) => v.to_string(),
        OptionValue::Bool(v) => v.to_string(),
    }
}

/// The fields of an edit request, in a stable order.
///
/// - one image goes as `image`, several as repeated `image[]` (dall-e-2 takes only `image`);
/// - every file part carries its file name and the MIME type sniffed from its bytes;
/// - `response_format` is sent only to dall-e-2 (GPT image models always return base64);
/// - provider options (already checked against the model's table) go by name.
pub(crate) fn edit_fields(request: &LoadedRequest, settings: FormSettings<'_>) -> Vec<Field> {
    let mut fields = Vec::with_capacity(8 + request.images.len() + request.options.len());
    if let Some(model) = settings.model {
        fields.push(text("model", model));
    }
    fields.push(text("prompt", request.prompt.clone()));
    let image_field = if request.images.len() == 1 { "image" } else { "image[]" };
    fields.extend(request.images.iter().map(|image| file(image_field, image)));
    if let Some(mask) = &request.mask {
        fields.push(file("mask", mask));
    }
    fields.push(text("n", request.n.to_string()));
    if let Some(size) = request.size {
        fields.push(text("size", size.to_string()));
    }
    if settings.family == ModelFamily::DallE2 {
        let format = match request.response_format {
            ResponseFormat::Url => "url",
            ResponseFormat::Base64 => "b64_json",
        };
        fields.push(text("response_format", format));
    }
    for (name, value) in &request.options {
        fields.push(text(name, option_text(value)));
    }
    if settings.stream {
        fields.push(text("stream", "true"));
    }
    fields
}

/// Builds a `reqwest` multipart form from the fields. Called once per
/// attempt: a form is consumed by sending it. File bytes are shared, not copied.
pub(crate) fn to_form(fields: &[Field]) -> Result<Form> {
    let mut form = Form::new();
    for field in fields {
        form = match &field.value {
            FieldValue::Text(value) => form.text(field.name.clone(), value.clone()),
            FieldValue::File { filename, mime, bytes } => {
                let part = Part::stream_with_length(reqwest::Body::from(bytes.clone()), bytes.len() as u64)
                    .file_name(filename.clone())
                    .mime_str(mime)
                    .map_err(|e| Error::invalid(field.name.clone(), format!("MIME type `{mime}` is invalid: {e}")))?;
                form.part(field.name.clone(), part)
            }
        };
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use msgflux_core::kit::testkit::{sample_image, sample_mask};
    use msgflux_core::{EditRequest, InputLoader, Size};

    use super::*;

    fn loaded(bytes: Vec<u8>, what: &str) -> LoadedImage {
        LoadedImage::from_bytes(bytes, Some(format!("{what}.png")), what).expect("sample loads")
    }

    fn request(images: usize) -> LoadedRequest {
        let mut request = EditRequest::new("add a hat").n(2);
        for i in 0..images {
            request = request.image(loaded(sample_image(32, 32), &format!("in{i}")));
        }
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(request.load(&InputLoader::default()))
            .expect("loaded inputs load")
    }

    fn names(fields: &[Field]) -> Vec<&str> {
        fields.iter().map(|f| f.name.as_str()).collect()
    }

    const GPT: FormSettings<'static> = FormSettings {
        model: Some("gpt-image-1"),
        family: ModelFamily::GptImage,
        stream: false,
    };

    #[test]
    fn one_image_goes_as_image() {
        let fields = edit_fields(&request(1), GPT);
        assert_eq!(names(&fields), ["model", "prompt", "image", "n"]);
    }

    #[test]
    fn several_images_go_as_repeated_image_brackets() {
        let fields = edit_fields(&request(3), GPT);
        assert_eq!(
            names(&fields),
            ["model", "prompt", "image[]", "image[]", "image[]", "n"]
        );
    }

    #[test]
    fn file_parts_carry_their_name_and_real_mime_type() {
        let mut req = request(1);
        req.mask = Some(loaded(sample_mask(32, 32), "mask"));
        let fields = edit_fields(&req, GPT);
        let mask = fields.iter().find(|f| f.name == "mask").expect("mask field");
        match &mask.value {
            FieldValue::File { filename, mime, .. } => {
                assert_eq!(filename, "mask.png");
                assert_eq!(*mime, "image/png");
            }
            other => panic!("mask should be a file, got {other:?}"),
        }
    }

    #[test]
    fn response_format_is_sent_only_to_dall_e_2() {
        let mut req = request(1);
        req.response_format = ResponseFormat::Base64;
        let dalle = FormSettings {
            model: Some("dall-e-2"),
            family: ModelFamily::DallE2,
            stream: false,
        };
        let fields = edit_fields(&req, dalle);
        let format = fields
            .iter()
            .find(|f| f.name == "response_format")
            .expect("sent to dall-e-2");
        assert_eq!(format.value.as_text(), Some("b64_json"));
        assert!(!names(&edit_fields(&req, GPT)).contains(&"response_format"));
    }

    #[test]
    fn azure_bodies_have_no_model_field() {
        let settings = FormSettings { model: None, ..GPT };
        assert!(!names(&edit_fields(&request(1), settings)).contains(&"model"));
    }

    #[test]
    fn size_options_and_stream_follow_the_request() {
        let mut req = request(1);
        req.size = Some(Size::new(1536, 1024).into());
        req.options.insert("quality".into(), OptionValue::Text("high".into()));
        req.options.insert("partial_images".into(), OptionValue::Integer(2));
        let fields = edit_fields(&req, FormSettings { stream: true, ..GPT });
        let get = |name: &str| fields.iter().find(|f| f.name == name).and_then(|f| f.value.as_text());
        assert_eq!(get("size"), Some("1536x1024"));
        assert_eq!(get("quality"), Some("high"));
        assert_eq!(get("partial_images"), Some("2"));
        assert_eq!(get("stream"), Some("true"));
        assert_eq!(get("n"), Some("2"));
    }

    #[test]
    fn to_form_accepts_every_field_kind() {
        let mut req = request(2);
        req.mask = Some(loaded(sample_mask(32, 32), "mask"));
        let form = to_form(&edit_fields(&req, GPT)).expect("form builds");
        assert!(form.boundary().len() > 10);
    }
}
