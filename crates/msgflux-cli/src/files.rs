//! Where inputs come from and results go: images named on the command
//! line or in a jobs file (paths, http(s), `data:`, and object-store URLs
//! read through msgflux-storage), file names derived from inputs, and every
//! output written atomically (a staged file and a rename locally, the
//! store's atomic put elsewhere), so a failure or Ctrl-C never leaves half a
//! file or object.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use msgflux::{EditResponse, Error, ImageFormat, ImageInput, InputLoader, Result};
use msgflux_storage::{Location, Storage, StorageError};

/// Largest jobs file or manifest read (256 MB).
pub const MAX_JOBS_BYTES: u64 = 256 * 1024 * 1024;

/// An image as named: ready for msgflux's loader (a path, an http(s) URL, a
/// `data:` URI), or an object in a store, read by [`load_input`] first.
#[derive(Debug, Clone)]
pub enum InputArg {
    /// Loaded by msgflux itself.
    Ready(ImageInput),
    /// Read from a store (`s3://`, `gs://`, `az://`, `file://`).
    Stored(Location),
}

/// An image given on the command line or in a jobs file: an object-store
/// URL, an http(s) URL or a `data:` URI as such, anything else a file path
/// (never guessed to be base64, so a missing file is reported as missing).
/// Relative paths are taken against `base` (the jobs file's folder) when
/// one is given, which may itself be in a store.
pub fn input_from_arg(raw: &str, base: Option<&Location>) -> InputArg {
    let trimmed = raw.trim();
    let lower = trimmed.get(..8).unwrap_or(trimmed).to_ascii_lowercase();
    if Location::is_store_url(trimmed) {
        return match Location::parse(trimmed) {
            Ok(Location::Local(path)) => InputArg::Ready(ImageInput::Path(path)),
            Ok(location) => InputArg::Stored(location),
            // Kept as a path, whose loading then fails naming it.
            Err(_) => InputArg::Ready(ImageInput::Path(PathBuf::from(trimmed))),
        };
    }
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("data:") {
        return InputArg::Ready(ImageInput::from(trimmed));
    }
    let path = Path::new(raw);
    match base {
        Some(Location::Local(dir)) if path.is_relative() => InputArg::Ready(ImageInput::Path(dir.join(path))),
        Some(Location::Http(_)) | None => InputArg::Ready(ImageInput::Path(path.to_path_buf())),
        Some(remote) if path.is_relative() => InputArg::Stored(remote.join(raw)),
        Some(_) => InputArg::Ready(ImageInput::Path(path.to_path_buf())),
    }
}

/// Reads an input into memory once, sniffed (its bytes are then sent as
/// they are): files and URLs with msgflux's loader, stored objects through
/// `storage`. So everything a job needs is read before anything is sent.
/// `what` names the parameter in errors.
pub async fn load_input(storage: &Storage, input: &InputArg, what: &str) -> Result<ImageInput> {
    match input {
        InputArg::Ready(input) => Ok(ImageInput::Loaded(InputLoader::default().load(input, what).await?)),
        InputArg::Stored(location) => {
            let bytes = storage
                .read(location, InputLoader::default().max_bytes())
                .await
                .map_err(|err| storage_error(what, err))?;
            Ok(ImageInput::Bytes {
                bytes,
                filename: location.file_name(),
            })
        }
    }
}

/// Loads an image named on the command line (a path, a URL, a `data:` URI,
/// or an object in a store) with `loader`'s limits.
pub async fn load_image(loader: &InputLoader, raw: &str, what: &str) -> Result<msgflux::LoadedImage> {
    let input = load_input(&Storage::new(), &input_from_arg(raw, None), what).await?;
    loader.load(&input, what).await
}

/// A storage error as a msgflux error: a bad location, a missing object or
/// missing credentials are invalid input naming `param` (exit 2); a store
/// that failed while working is an I/O error (exit 5).
pub fn storage_error(param: &str, err: StorageError) -> Error {
    if err.is_invalid_input() {
        Error::invalid(param, err.to_string())
    } else {
        Error::io(param, std::io::Error::other(err))
    }
}

/// Parses `--out` or a jobs file's location.
pub fn location_arg(param: &str, raw: &str) -> Result<Location> {
    Location::parse(raw).map_err(|err| storage_error(param, err))
}

/// Saves every result of a response into `out` as `<stem>.<ext>` (or
/// `<stem>-<i>.<ext>` for several), each checked to be an image before any
/// is written, each written whole; returns the names written.
pub async fn save_results(
    storage: &Storage,
    out: &Location,
    stem: &str,
    response: &EditResponse,
) -> Result<Vec<String>> {
    let mut files = Vec::with_capacity(response.images.len());
    for image in &response.images {
        let loaded = image.load().await.map_err(|err| match err {
            Error::InvalidResponse { message, .. } => Error::InvalidResponse {
                provider: response.provider.clone(),
                message,
                request_id: response.request_id.clone(),
            },
            other => other,
        })?;
        files.push(loaded);
    }
    let several = files.len() != 1;
    let mut names = Vec::with_capacity(files.len());
    for (i, file) in files.into_iter().enumerate() {
        let ext = file.format.extension();
        let name = if several {
            format!("{stem}-{i}.{ext}")
        } else {
            format!("{stem}.{ext}")
        };
        write(storage, &out.join(&name), file.bytes).await?;
        names.push(name);
    }
    Ok(names)
}

/// Writes one object whole (`param` `out` in errors).
pub async fn write(storage: &Storage, location: &Location, bytes: Bytes) -> Result<()> {
    storage
        .write(location, bytes)
        .await
        .map_err(|err| storage_error("out", err))
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
        assert!(matches!(
            input_from_arg("cafe", None),
            InputArg::Ready(ImageInput::Path(_))
        ));
    }

    #[test]
    fn relative_paths_are_taken_against_the_base() {
        let input = input_from_arg("img/a.png", Some(&Location::Local("/jobs".into())));
        assert!(matches!(input, InputArg::Ready(ImageInput::Path(p)) if p == Path::new("/jobs/img/a.png")));
    }

    #[test]
    fn relative_paths_in_a_stored_jobs_file_are_objects_beside_it() {
        let base = Location::parse("s3://b/batch").expect("location");
        let input = input_from_arg("img/a.png", Some(&base));
        assert!(matches!(input, InputArg::Stored(l) if l.to_string() == "s3://b/batch/img/a.png"));
    }

    #[test]
    fn store_urls_are_read_from_their_store() {
        assert!(matches!(input_from_arg("gs://b/a.png", None), InputArg::Stored(_)));
        assert!(matches!(
            input_from_arg("file:///data/a.png", None),
            InputArg::Ready(ImageInput::Path(p)) if p == Path::new("/data/a.png")
        ));
    }

    #[test]
    fn urls_are_kept_as_urls() {
        assert!(matches!(
            input_from_arg("https://x/a.png", Some(&Location::Local("/jobs".into()))),
            InputArg::Ready(ImageInput::Url(_))
        ));
    }

    #[test]
    fn unsafe_characters_become_underscores() {
        assert_eq!(safe_name("../my photo"), "_my_photo");
    }
}
