//! Prediction output: a URL, a list of URLs, or `data:` URIs, turned into
//! result images. `url` results keep Replicate's delivery URLs (they expire
//! about an hour after the prediction); `base64` results are downloaded and
//! encoded at once.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use msgflux_core::{Error, ImageData, ImageFormat, ResponseFormat, Result};
use serde_json::Value;

use crate::client::ReplicateClient;
use crate::lifecycle::Prediction;
use crate::registration::REPLICATE_SCHEME;

/// The output files of a finished prediction, in the model's order.
pub(crate) fn output_files(prediction: &Prediction) -> Result<Vec<String>> {
    let unreadable = |why: &str| Error::InvalidResponse {
        provider: REPLICATE_SCHEME.into(),
        message: format!("prediction {} succeeded but {why}", prediction.id),
        request_id: Some(prediction.id.clone()),
    };
    match &prediction.output {
        Value::String(file) => Ok(vec![file.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| unreadable(&format!("its output holds {item}, not a file URL")))
            })
            .collect(),
        Value::Null => Err(unreadable(
            "has no output (outputs are removed about an hour after a prediction)",
        )),
        other => Err(unreadable(&format!(
            "its output is {}, not a file URL or a list of them",
            kind(other)
        ))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "an object",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        _ => "something else",
    }
}

/// One output file as the requested response format.
pub(crate) async fn image_data(
    client: &ReplicateClient,
    file: &str,
    format: ResponseFormat,
    max_bytes: u64,
    what: &str,
) -> Result<ImageData> {
    match format {
        ResponseFormat::Url => Ok(ImageData::Url(file.to_string())),
        ResponseFormat::Base64 => {
            let bytes = match file.strip_prefix("data:") {
                Some(rest) => {
                    let payload = rest.split_once(',').map(|(_, p)| p).unwrap_or_default();
                    BASE64.decode(payload.trim()).map_err(|e| Error::InvalidResponse {
                        provider: REPLICATE_SCHEME.into(),
                        message: format!("{what} is a data URI whose payload is not base64: {e}"),
                        request_id: None,
                    })?
                }
                None => client.download(file, what, max_bytes).await?.to_vec(),
            };
            if ImageFormat::sniff(&bytes).is_none() {
                return Err(Error::InvalidResponse {
                    provider: REPLICATE_SCHEME.into(),
                    message: format!(
                        "{what} is not an image file (it starts with {})",
                        msgflux_core::kit::http::body_snippet(&bytes[..bytes.len().min(16)])
                    ),
                    request_id: None,
                });
            }
            Ok(ImageData::Base64(BASE64.encode(bytes)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prediction(output: &str) -> Prediction {
        serde_json::from_str(&format!(r#"{{"id":"p","status":"succeeded","output":{output}}}"#)).expect("parse")
    }

    #[test]
    fn a_single_url_and_a_list_both_give_files_in_order() {
        assert_eq!(
            output_files(&prediction(r#""https://replicate.delivery/a.png""#)).expect("one"),
            vec!["https://replicate.delivery/a.png"]
        );
        assert_eq!(
            output_files(&prediction(r#"["https://x/1.png","data:image/png;base64,AA=="]"#)).expect("two"),
            vec!["https://x/1.png", "data:image/png;base64,AA=="]
        );
    }

    #[test]
    fn a_removed_output_says_outputs_expire() {
        let err = output_files(&prediction("null")).expect_err("no output");
        assert!(err.to_string().contains("about an hour"), "{err}");
    }

    #[test]
    fn an_object_output_is_unreadable() {
        let err = output_files(&prediction(r#"{"image":"x"}"#)).expect_err("object");
        assert!(err.to_string().contains("an object"), "{err}");
    }
}
