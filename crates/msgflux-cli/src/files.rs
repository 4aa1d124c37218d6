//! Where results go: file names derived from inputs, input files read with
//! errors that name the parameter, and every output written atomically
//! (`msgflux::write_atomic`: a temporary file, then a rename), so a failure
//! or Ctrl-C never leaves half a file.

use std::path::{Path, PathBuf};

use msgflux::{Error, ImageFormat, ImageInput, Result};

/// An image given on the command line or in a jobs file: an http(s) URL or a
/// `data:` URI as such, anything else a file path (never guessed to be base64,
/// so a missing file is reported as missing). Relative paths are taken
/// against `base` when one is given.
pub fn input_from_arg(raw: &str, base: Option<&Path>) -> ImageInput {
    let trimmed = raw.trim();
    let lower = trimmed.get(..8).unwrap_or(trimmed).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("data:") {
        return ImageInput::from(trimmed);
    }
    let path = Path::new(raw);
    match base {
        Some(base) if path.is_relative() => ImageInput::Path(base.join(path)),
        _ => ImageInput::Path(path.to_path_buf()),
    }
}

/// A file-name stem for results of an input (`photos/cat.png` -> `cat`,
/// `https://x/y/shoe.jpg?sig=1` -> `shoe`), made safe for any file system.
pub fn stem_for(input: &str) -> String {
    let without_query = input.split(['?', '#']).next().unwrap_or(input);
    let last = without_query.rsplit(['/', '\\']).next().unwrap_or(without_query);
    let stem = if input.trim_start().starts_with("data:") {
        ""
    } else {
        Path::new(last).file_stem().and_then(|s| s.to_str()).unwrap_or("")
    };
    let safe = safe_name(stem);
    if safe.is_empty() { "image".to_string() } else { safe }
}

/// Keeps letters, digits, `-`, `_` and `.`; replaces the rest with `_`; never starts with a dot.
pub fn safe_name(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    cleaned.trim_start_matches('.').to_string()
}

/// The extension for image bytes, from their magic number (`png` when unknown).
pub fn extension_of(bytes: &[u8]) -> &'static str {
    ImageFormat::sniff(bytes).map(ImageFormat::extension).unwrap_or("png")
}

/// Reads an input file; a missing file is invalid input naming `what`.
pub fn read_input(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => Error::invalid(what, format!("file not found: {}", path.display())),
        std::io::ErrorKind::IsADirectory => {
            Error::invalid(what, format!("{} is a directory, not an image file", path.display()))
        }
        _ => Error::io(path, err),
    })
}

/// Writes `bytes` to `path` atomically, off the async runtime's thread.
pub async fn write_file(path: PathBuf, bytes: impl AsRef<[u8]> + Send + 'static) -> Result<PathBuf> {
    let target = path.clone();
    tokio::task::spawn_blocking(move || msgflux::write_atomic(&target, bytes.as_ref()))
        .await
        .map_err(|err| Error::io(&path, std::io::Error::other(err)))??;
    Ok(path)
}

/// Writes `bytes` to `path` atomically, from synchronous code.
pub fn write_file_now(path: &Path, bytes: &[u8]) -> Result<()> {
    msgflux::write_atomic(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stem_of_a_path_is_its_file_stem() {
        assert_eq!(stem_for("assets/chelsea.png"), "chelsea");
    }

    #[test]
    fn the_stem_of_a_url_ignores_the_query() {
        assert_eq!(stem_for("https://cdn.example/a/shoe.jpg?sig=abc"), "shoe");
    }

    #[test]
    fn inputs_without_a_name_are_called_image() {
        assert_eq!(stem_for("data:image/png;base64,AAAA"), "image");
        assert_eq!(stem_for("https://cdn.example/"), "image");
    }

    #[test]
    fn a_missing_file_stays_a_path_even_if_it_looks_like_base64() {
        assert!(matches!(input_from_arg("cafe", None), ImageInput::Path(_)));
    }

    #[test]
    fn relative_paths_are_taken_against_the_base() {
        let input = input_from_arg("img/a.png", Some(Path::new("/jobs")));
        assert!(matches!(input, ImageInput::Path(p) if p == Path::new("/jobs/img/a.png")));
    }

    #[test]
    fn urls_are_kept_as_urls() {
        assert!(matches!(
            input_from_arg("https://x/a.png", Some(Path::new("/jobs"))),
            ImageInput::Url(_)
        ));
    }

    #[test]
    fn unsafe_characters_become_underscores() {
        assert_eq!(safe_name("../my photo"), "_my_photo");
    }
}
