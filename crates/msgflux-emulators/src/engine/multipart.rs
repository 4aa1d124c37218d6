//! Multipart bodies as the emulators read them: every field, in order, as
//! text or as a file with its name and content type.

use axum::extract::Multipart;

/// One multipart field as a server sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Field name (`image[]`, `prompt`, ...).
    pub name: String,
    /// Text or file.
    pub value: PartValue,
}

/// The content of a multipart field.
#[derive(Clone, PartialEq)]
pub enum PartValue {
    /// A text field.
    Text(String),
    /// A file part.
    File {
        /// `filename` of the part's Content-Disposition.
        filename: Option<String>,
        /// The part's Content-Type.
        content_type: Option<String>,
        /// The file's bytes.
        bytes: Vec<u8>,
    },
}

impl std::fmt::Debug for PartValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(t) if t.len() > 80 => write!(f, "Text({} chars)", t.len()),
            Self::Text(t) => f.debug_tuple("Text").field(t).finish(),
            Self::File {
                filename,
                content_type,
                bytes,
            } => write!(f, "File({filename:?}, {content_type:?}, {} bytes)", bytes.len()),
        }
    }
}

impl Part {
    /// A text field.
    pub fn text(name: &str, value: &str) -> Self {
        Self {
            name: name.into(),
            value: PartValue::Text(value.into()),
        }
    }

    /// A file part.
    pub fn file(name: &str, filename: &str, content_type: &str, bytes: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            value: PartValue::File {
                filename: Some(filename.into()),
                content_type: Some(content_type.into()),
                bytes,
            },
        }
    }

    /// The text, for text fields.
    pub fn as_text(&self) -> Option<&str> {
        match &self.value {
            PartValue::Text(t) => Some(t),
            PartValue::File { .. } => None,
        }
    }

    /// The file name, for file parts.
    pub fn filename(&self) -> Option<&str> {
        match &self.value {
            PartValue::File { filename, .. } => filename.as_deref(),
            PartValue::Text(_) => None,
        }
    }

    /// The Content-Type, for file parts.
    pub fn content_type(&self) -> Option<&str> {
        match &self.value {
            PartValue::File { content_type, .. } => content_type.as_deref(),
            PartValue::Text(_) => None,
        }
    }

    /// The bytes, for file parts.
    pub fn file_bytes(&self) -> Option<&[u8]> {
        match &self.value {
            PartValue::File { bytes, .. } => Some(bytes),
            PartValue::Text(_) => None,
        }
    }
}

/// Reads every field of a multipart body; a field with a file name is a file.
pub async fn read_multipart(multipart: &mut Multipart) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(str::to_string);
        let bytes = field.bytes().await.map_err(|e| e.to_string())?.to_vec();
        let value = if filename.is_some() {
            PartValue::File {
                filename,
                content_type,
                bytes,
            }
        } else {
            PartValue::Text(String::from_utf8(bytes).map_err(|_| format!("field `{name}` is not UTF-8 text"))?)
        };
        parts.push(Part { name, value });
    }
    Ok(parts)
}
