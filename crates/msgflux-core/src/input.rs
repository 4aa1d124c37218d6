//! One normaliser for every way a user can hand over an image.
//!
//! [`ImageInput`] is what users give (a path, a URL, a `data:` URI, bare
//! base64, bytes or an in-memory image); [`ImageInput::load`] turns it into a
//! [`LoadedImage`]: the file bytes, the format sniffed from them, a correct
//! MIME type and file name, and the dimensions read from the header.

use std::fmt;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use image::DynamicImage;

use crate::address::{AddressPolicy, GuardedResolver, check_literal_host, refusal_in};
use crate::decode::{DecodeLimits, decode_with_limits, read_header, sniff_format};
use crate::error::{Error, Result};
use crate::format::ImageFormat;
use crate::kit::http::{BodyError, read_body, redact_url, transport_message};

/// An image as the user gave it. Nothing is read until an [`InputLoader`] loads it.
///
/// Strings are classified by [`ImageInput::from`]: `http(s)://` is a URL,
/// `data:` a data URI, an existing file a path, a long run of base64
/// characters bare base64, and anything else a path (which then fails with a
/// "file not found" error naming it, rather than being decoded as base64).
///
/// ```
/// use msgflux_core::ImageInput;
/// assert!(matches!(ImageInput::from("https://example.com/cat.png"), ImageInput::Url(_)));
/// assert!(matches!(ImageInput::from("data:image/png;base64,iVBORw0KGgo="), ImageInput::DataUri(_)));
/// assert!(matches!(ImageInput::from("photos/missing.png"), ImageInput::Path(_)));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum ImageInput {
    /// A file on disk.
    Path(PathBuf),
    /// An `http://` or `https://` URL, downloaded with size and time limits.
    Url(String),
    /// A `data:image/...;base64,...` URI.
    DataUri(String),
    /// Bare base64 of an image file.
    Base64(String),
    /// The bytes of an image file, with an optional file name.
    Bytes {
        /// The file's bytes.
        bytes: Bytes,
        /// A name to show the provider; derived from the format when absent.
        filename: Option<String>,
    },
    /// A decoded image; encoded as PNG (keeping alpha) when loaded.
    Image(Arc<DynamicImage>),
    /// An image already loaded (and sniffed).
    Loaded(LoadedImage),
}

impl fmt::Debug for ImageInput {
    // Never dump megabytes of base64 or pixels into a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(p) => f.debug_tuple("Path").field(p).finish(),
            Self::Url(u) => f.debug_tuple("Url").field(&redact_url(u)).finish(),
            Self::DataUri(s) => write!(f, "DataUri({} chars)", s.len()),
            Self::Base64(s) => write!(f, "Base64({} chars)", s.len()),
            Self::Bytes { bytes, filename } => write!(f, "Bytes({} bytes, {:?})", bytes.len(), filename),
            Self::Image(img) => write!(f, "Image({}x{})", img.width(), img.height()),
            Self::Loaded(l) => fmt::Debug::fmt(l, f),
        }
    }
}

impl From<&str> for ImageInput {
    fn from(s: &str) -> Self {
        let trimmed = s.trim();
        let lower = trimmed.get(..8).unwrap_or(trimmed).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Self::Url(trimmed.to_string());
        }
        if lower.starts_with("data:") {
            return Self::DataUri(trimmed.to_string());
        }
        if Path::new(s).exists() {
            return Self::Path(PathBuf::from(s));
        }
        if looks_like_base64(trimmed) {
            return Self::Base64(trimmed.to_string());
        }
        Self::Path(PathBuf::from(s))
    }
}

impl From<String> for ImageInput {
    fn from(s: String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<&String> for ImageInput {
    fn from(s: &String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<PathBuf> for ImageInput {
    fn from(p: PathBuf) -> Self {
        Self::Path(p)
    }
}

impl From<&Path> for ImageInput {
    fn from(p: &Path) -> Self {
        Self::Path(p.to_path_buf())
    }
}

impl From<&PathBuf> for ImageInput {
    fn from(p: &PathBuf) -> Self {
        Self::Path(p.clone())
    }
}

impl From<Vec<u8>> for ImageInput {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Bytes {
            bytes: bytes.into(),
            filename: None,
        }
    }
}

impl From<&[u8]> for ImageInput {
    fn from(bytes: &[u8]) -> Self {
        Self::from(bytes.to_vec())
    }
}

impl From<Bytes> for ImageInput {
    fn from(bytes: Bytes) -> Self {
        Self::Bytes { bytes, filename: None }
    }
}

impl From<DynamicImage> for ImageInput {
    fn from(img: DynamicImage) -> Self {
        Self::Image(Arc::new(img))
    }
}

impl From<image::RgbaImage> for ImageInput {
    fn from(img: image::RgbaImage) -> Self {
        Self::Image(Arc::new(DynamicImage::ImageRgba8(img)))
    }
}

impl From<LoadedImage> for ImageInput {
    fn from(img: LoadedImage) -> Self {
        Self::Loaded(img)
    }
}

/// Bare base64 is long and uses only the base64 alphabet. File names use `.`
/// and are short, so they never qualify.
fn looks_like_base64(s: &str) -> bool {
    s.len() >= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n' | b'\r'))
}

/// Where a loaded image came from, kept so a provider can pass a URL through
/// instead of re-uploading it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputOrigin {
    /// Read from this file.
    Path(PathBuf),
    /// Downloaded from this URL.
    Url(String),
    /// Given inline (bytes, base64, data URI, in-memory image).
    Inline,
}

/// An image ready to send: file bytes plus what was sniffed from them.
#[derive(Clone)]
#[non_exhaustive]
pub struct LoadedImage {
    /// The file's bytes, exactly as they will be sent.
    pub bytes: Bytes,
    /// The format read from the magic bytes.
    pub format: ImageFormat,
    /// Width from the header, upright (after the EXIF orientation).
    pub width: u32,
    /// Height from the header, upright (after the EXIF orientation).
    pub height: u32,
    /// Whether the pixel format carries an alpha channel.
    pub has_alpha: bool,
    /// A file name with the right extension.
    pub filename: String,
    /// Where it came from.
    pub origin: InputOrigin,
}

impl fmt::Debug for LoadedImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedImage")
            .field("filename", &self.filename)
            .field("format", &self.format)
            .field("size", &format_args!("{}x{}", self.width, self.height))
            .field("bytes", &self.bytes.len())
            .field("has_alpha", &self.has_alpha)
            .finish_non_exhaustive()
    }
}

impl LoadedImage {
    /// Sniffs the bytes of an image file. `what` names the parameter in errors.
    ///
    /// ```
    /// # fn main() -> msgflux_core::Result<()> {
    /// let mut png = Vec::new();
    /// image::RgbaImage::new(4, 2).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    /// let loaded = msgflux_core::LoadedImage::from_bytes(png, None, "image")?;
    /// assert_eq!((loaded.width, loaded.height, loaded.has_alpha), (4, 2, true));
    /// assert_eq!(loaded.mime(), "image/png");
    /// # Ok(()) }
    /// ```
    pub fn from_bytes(bytes: impl Into<Bytes>, filename: Option<String>, what: &str) -> Result<Self> {
        let bytes = bytes.into();
        let format = sniff_format(&bytes, what)?;
        let header = read_header(&bytes, format, what)?;
        let (width, height, has_alpha) = (header.width, header.height, header.has_alpha);
        let filename = match filename {
            Some(name)
                if Path::new(&name)
                    .extension()
                    .is_some_and(|ext| ImageFormat::from_name(&ext.to_string_lossy()) == Some(format)) =>
            {
                name
            }
            Some(name) => {
                let stem = Path::new(&name).file_stem().map(|s| s.to_string_lossy().into_owned());
                format!("{}.{}", stem.unwrap_or_else(|| "image".into()), format.extension())
            }
            None => format!("{}.{}", sanitize_stem(what), format.extension()),
        };
        Ok(Self {
            bytes,
            format,
            width,
            height,
            has_alpha,
            filename,
            origin: InputOrigin::Inline,
        })
    }

    /// Encodes an in-memory image as PNG (lossless, keeps alpha).
    pub fn from_image(img: &DynamicImage, what: &str) -> Result<Self> {
        let mut buf = Vec::new();
        let encodable: DynamicImage = match img {
            // PNG has no float formats; keep 16 bits where there are 16.
            DynamicImage::ImageRgb32F(_) => DynamicImage::ImageRgb16(img.to_rgb16()),
            DynamicImage::ImageRgba32F(_) => DynamicImage::ImageRgba16(img.to_rgba16()),
            other => other.clone(),
        };
        encodable
            .write_to(&mut Cursor::new(&mut buf), image::ImageFormat::Png)
            .map_err(|e| Error::decode(what, format!("cannot encode as PNG: {e}")))?;
        Self::from_bytes(buf, None, what)
    }

    /// The MIME type matching the sniffed format.
    pub fn mime(&self) -> &'static str {
        self.format.mime()
    }

    /// The bytes as standard padded base64 (what `b64_json` carries).
    ///
    /// ```
    /// # let png = msgflux_core::LoadedImage::from_image(&image::DynamicImage::new_rgba8(1, 1), "i").unwrap();
    /// assert!(png.to_base64().starts_with("iVBORw0KGgo"));
    /// ```
    pub fn to_base64(&self) -> String {
        crate::base64_text::encode(&self.bytes)
    }

    /// The bytes as a `data:` URI.
    pub fn to_data_uri(&self) -> String {
        format!("data:{};base64,{}", self.mime(), self.to_base64())
    }

    /// Decodes the pixels, upright, within the default safety limits of [`DecodeLimits`].
    pub fn decode(&self) -> Result<DynamicImage> {
        decode_with_limits(&self.bytes, self.format, &DecodeLimits::default(), &self.filename)
    }
}

fn sanitize_stem(what: &str) -> String {
    let stem: String = what
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    stem.trim_matches('_').to_string()
}

/// How inputs are fetched: limits for downloads and the HTTP client to use.
///
/// ```
/// use std::time::Duration;
/// let loader = msgflux_core::InputLoader::default()
///     .with_max_bytes(8 * 1024 * 1024)
///     .with_timeout(Duration::from_secs(10));
/// assert_eq!(loader.max_bytes(), 8 * 1024 * 1024);
/// ```
#[derive(Debug, Clone)]
pub struct InputLoader {
    client: Option<reqwest::Client>,
    max_bytes: u64,
    timeout: Duration,
    max_redirects: usize,
    policy: Arc<AddressPolicy>,
}

impl Default for InputLoader {
    fn default() -> Self {
        Self {
            client: None,
            max_bytes: 64 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            max_redirects: 5,
            policy: Arc::new(AddressPolicy::Any),
        }
    }
}

impl InputLoader {
    /// Largest file accepted from any source (default 64 MB).
    pub fn with_max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Time limit for a URL download (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Most redirects followed for a URL (default 5).
    pub fn with_max_redirects(mut self, n: usize) -> Self {
        self.max_redirects = n;
        self
    }

    /// Uses this client for downloads (its redirect policy then applies).
    ///
    /// Not with [`AddressPolicy::PublicOnly`]: that policy needs the loader's
    /// own client (its resolver and redirect checks), and downloads fail with
    /// [`Error::Config`] when both are set.
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Which addresses URL inputs may be downloaded from (default: any).
    /// Programs that fetch URLs chosen by others set
    /// [`AddressPolicy::PublicOnly`].
    pub fn with_address_policy(mut self, policy: AddressPolicy) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    /// The address policy.
    pub fn address_policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// The byte limit.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    fn client(&self) -> Result<reqwest::Client> {
        match (&self.client, self.policy.is_restricted()) {
            (Some(_), true) => {
                return Err(Error::config(
                    "the input loader's address policy needs the loader's own HTTP client; do not set both",
                ));
            }
            (Some(client), false) => return Ok(client.clone()),
            (None, _) => {}
        }
        let builder = crate::kit::http::client_builder().connect_timeout(Duration::from_secs(10));
        let builder = if self.policy.is_restricted() {
            let policy = self.policy.clone();
            let max_redirects = self.max_redirects;
            // A proxy would resolve names itself, out of the resolver's sight.
            builder
                .no_proxy()
                .dns_resolver(GuardedResolver { policy: policy.clone() })
                .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                    if attempt.previous().len() > max_redirects {
                        return attempt.error(format!("more than {max_redirects} redirects"));
                    }
                    match check_literal_host(&policy, attempt.url()) {
                        Ok(()) => attempt.follow(),
                        Err(refused) => attempt.error(refused),
                    }
                }))
        } else {
            builder.redirect(reqwest::redirect::Policy::limited(self.max_redirects))
        };
        builder
            .build()
            .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))
    }

    /// Downloads a URL within the limits; `what` names the parameter in errors.
    pub async fn download(&self, url: &str, what: &str) -> Result<Bytes> {
        let parsed = url::Url::parse(url).map_err(|e| Error::invalid(what, format!("is not a valid URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::invalid(
                what,
                format!("URL scheme `{}` is not allowed; use http or https", parsed.scheme()),
            ));
        }
        let shown = redact_url(url);
        if let Err(refused) = check_literal_host(&self.policy, &parsed) {
            return Err(refused_input(what, &shown, &refused));
        }
        let fut = async {
            let response = self.client()?.get(parsed).send().await.map_err(|e| {
                if let Some(refused) = refusal_in(&e) {
                    return refused_input(what, &shown, refused);
                }
                Error::Network {
                    provider: "input".into(),
                    request_sent: !e.is_connect(),
                    message: format!("downloading {what} from {shown}: {}", transport_message(&e)),
                    source: Some(Box::new(e)),
                }
            })?;
            let status = response.status();
            if !status.is_success() {
                let detail =
                    crate::ProviderError::new("input", format!("downloading {what} from {shown} gave HTTP {status}"))
                        .with_status(status.as_u16());
                return Err(
                    if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
                        Error::NotFound(Box::new(detail))
                    } else {
                        crate::kit::http::error_for_status(status.as_u16(), detail)
                    },
                );
            }
            read_body(response, self.max_bytes, None)
                .await
                .map_err(|err| match err {
                    BodyError::TooLarge { at_least } => oversize(what, &shown, at_least, self.max_bytes),
                    BodyError::Stalled(after) => Error::Timeout {
                        provider: "input".into(),
                        after,
                        maybe_billed: false,
                        message: format!("downloading {what} from {shown}"),
                    },
                    BodyError::Transport(e) => Error::Network {
                        provider: "input".into(),
                        request_sent: true,
                        message: format!("downloading {what} from {shown}: {}", transport_message(&e)),
                        source: Some(Box::new(e)),
                    },
                })
        };
        tokio::time::timeout(self.timeout, fut).await.unwrap_or_else(|_| {
            Err(Error::Timeout {
                provider: "input".into(),
                after: self.timeout,
                maybe_billed: false,
                message: format!("downloading {what} from {shown}"),
            })
        })
    }

    /// Reads a file within the byte limit: opened once, its size checked
    /// from the open file, then read (see [`crate::kit::local_io`] for where).
    pub async fn read_file(&self, path: &Path, what: &str) -> Result<Bytes> {
        let (path, what_owned, max_bytes) = (path.to_path_buf(), what.to_string(), self.max_bytes);
        let shown = path.clone();
        crate::kit::local_io::run(move || read_capped(&path, &what_owned, max_bytes))
            .await
            .map_err(|e| Error::io(&shown, e))?
    }

    /// Loads an input; `what` names the parameter in errors (`image`, `image[1]`, `mask`).
    pub async fn load(&self, input: &ImageInput, what: &str) -> Result<LoadedImage> {
        let loaded = match input {
            ImageInput::Loaded(l) => return Ok(l.clone()),
            ImageInput::Path(path) => {
                let bytes = self.read_file(path, what).await?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let mut img = LoadedImage::from_bytes(bytes, name, what).map_err(|e| name_file_in(e, path))?;
                img.origin = InputOrigin::Path(path.clone());
                img
            }
            ImageInput::Url(url) => {
                let bytes = self.download(url, what).await?;
                let name = url::Url::parse(url)
                    .ok()
                    .and_then(|u| u.path_segments()?.next_back().map(str::to_string))
                    .filter(|n| !n.is_empty());
                let mut img = LoadedImage::from_bytes(bytes, name, what)?;
                img.origin = InputOrigin::Url(url.clone());
                img
            }
            ImageInput::DataUri(uri) => {
                let (declared, bytes) = parse_data_uri(uri, what)?;
                let img = LoadedImage::from_bytes(bytes, None, what)?;
                if let Some(declared) = declared
                    && declared != img.format
                {
                    tracing::debug!(what, %declared, actual = %img.format, "data URI declares another format; using the sniffed one");
                }
                img
            }
            ImageInput::Base64(text) => {
                let bytes = decode_base64(text, what)?;
                LoadedImage::from_bytes(bytes, None, what)?
            }
            ImageInput::Bytes { bytes, filename } => LoadedImage::from_bytes(bytes.clone(), filename.clone(), what)?,
            ImageInput::Image(img) => LoadedImage::from_image(img, what)?,
        };
        if loaded.bytes.len() as u64 > self.max_bytes {
            return Err(Error::invalid(
                what,
                format!("is {} bytes; the limit is {} bytes", loaded.bytes.len(), self.max_bytes),
            ));
        }
        Ok(loaded)
    }
}

/// Reads a file of at most `max_bytes`: not found, a folder, or over the
/// limit is invalid input naming `what`.
fn read_capped(path: &Path, what: &str, max_bytes: u64) -> Result<Bytes> {
    use crate::kit::local_io::CappedReadError;
    crate::kit::local_io::read_capped(path, max_bytes)
        .map(Bytes::from)
        .map_err(|err| match err {
            CappedReadError::NotFound => Error::invalid(what, format!("file not found: {}", path.display())),
            CappedReadError::Folder => {
                Error::invalid(what, format!("{} is a directory, not an image file", path.display()))
            }
            CappedReadError::TooLarge { size } => Error::invalid(
                what,
                format!("{} is {size} bytes; the limit is {max_bytes} bytes", path.display()),
            ),
            CappedReadError::Grew { .. } => Error::invalid(
                what,
                format!(
                    "{} grew past the limit of {max_bytes} bytes while being read",
                    path.display()
                ),
            ),
            CappedReadError::Io(err) => Error::io(path, err),
        })
}

fn name_file_in(err: Error, path: &Path) -> Error {
    match err {
        Error::InvalidInput { param, rule, .. } => Error::invalid(param, format!("{}: {rule}", path.display())),
        Error::Decode { what, message } => Error::Decode {
            what: format!("{what} ({})", path.display()),
            message,
        },
        other => other,
    }
}

fn refused_input(what: &str, url: &str, refused: &crate::address::Refused) -> Error {
    Error::invalid(
        what,
        format!("URL {url} is refused: {refused}; only public addresses are fetched"),
    )
}

fn oversize(what: &str, url: &str, got: u64, max: u64) -> Error {
    Error::invalid(
        what,
        format!("download from {url} is over the {max}-byte limit (at least {got} bytes)"),
    )
}

fn decode_base64(text: &str, what: &str) -> Result<Vec<u8>> {
    crate::base64_text::decode_forgiving(text).map_err(|e| Error::invalid(what, format!("is not valid base64: {e}")))
}

/// Splits `data:image/png;base64,....` into its declared format and bytes.
fn parse_data_uri(uri: &str, what: &str) -> Result<(Option<ImageFormat>, Vec<u8>)> {
    let rest = uri
        .get(5..)
        .filter(|_| uri[..5].eq_ignore_ascii_case("data:"))
        .ok_or_else(|| Error::invalid(what, "is not a data URI"))?;
    let (header, payload) = rest
        .split_once(',')
        .ok_or_else(|| Error::invalid(what, "data URI has no `,` before its payload"))?;
    let mut parts = header.split(';');
    let media = parts.next().unwrap_or_default();
    let is_base64 = parts.any(|p| p.eq_ignore_ascii_case("base64"));
    if !is_base64 {
        return Err(Error::invalid(
            what,
            "data URI must be base64-encoded (`data:image/png;base64,...`)",
        ));
    }
    Ok((ImageFormat::from_name(media), decode_base64(payload, what)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut buf = Vec::new();
        image::RgbaImage::new(w, h)
            .write_to(&mut Cursor::new(&mut buf), image::ImageFormat::Png)
            .expect("encode");
        buf
    }

    #[test]
    fn a_file_name_is_never_mistaken_for_base64() {
        assert!(matches!(ImageInput::from("no/such/photo.png"), ImageInput::Path(_)));
        assert!(matches!(ImageInput::from("photo"), ImageInput::Path(_)));
    }

    #[test]
    fn long_base64_text_is_bare_base64() {
        let text = BASE64.encode(png(8, 8));
        assert!(matches!(ImageInput::from(text.as_str()), ImageInput::Base64(_)));
    }

    #[tokio::test]
    async fn a_missing_path_names_the_path() {
        let err = InputLoader::default()
            .load(&ImageInput::from("no/such/photo.png"), "image")
            .await
            .expect_err("missing file");
        assert!(
            matches!(&err, Error::InvalidInput { param, .. } if param == "image"),
            "{err:?}"
        );
        assert!(err.to_string().contains("file not found: no/such/photo.png"), "{err}");
    }

    #[tokio::test]
    async fn a_data_uri_loads_with_its_real_mime_type() {
        let uri = format!("data:image/png;base64,{}", BASE64.encode(png(3, 5)));
        let img = InputLoader::default()
            .load(&ImageInput::from(uri), "image")
            .await
            .expect("load");
        assert_eq!((img.width, img.height), (3, 5));
        assert_eq!(img.mime(), "image/png");
        assert_eq!(img.filename, "image.png");
    }

    #[tokio::test]
    async fn a_data_uri_that_is_not_base64_is_refused() {
        let err = InputLoader::default()
            .load(&ImageInput::DataUri("data:image/png,rawbytes".into()), "mask")
            .await
            .expect_err("not base64");
        assert!(err.to_string().contains("must be base64-encoded"), "{err}");
    }

    #[tokio::test]
    async fn bare_base64_loads() {
        let text = BASE64.encode(png(2, 2));
        let img = InputLoader::default()
            .load(&ImageInput::from(text), "image")
            .await
            .expect("load");
        assert_eq!(img.format, ImageFormat::Png);
    }

    #[tokio::test]
    async fn bytes_with_a_wrong_extension_get_the_sniffed_one() {
        let input = ImageInput::Bytes {
            bytes: png(2, 2).into(),
            filename: Some("photo.jpg".into()),
        };
        let img = InputLoader::default().load(&input, "image").await.expect("load");
        assert_eq!(img.filename, "photo.png");
        assert_eq!(img.mime(), "image/png");
    }

    #[tokio::test]
    async fn a_text_file_is_not_an_image() {
        let err = InputLoader::default()
            .load(
                &ImageInput::from(b"just some text, not a picture".as_slice()),
                "image[1]",
            )
            .await
            .expect_err("text");
        assert!(
            matches!(&err, Error::InvalidInput { param, .. } if param == "image[1]"),
            "{err:?}"
        );
        assert!(err.to_string().contains("not a supported image"), "{err}");
    }

    #[tokio::test]
    async fn empty_bytes_are_refused() {
        let err = InputLoader::default()
            .load(&ImageInput::from(Vec::new()), "image")
            .await
            .expect_err("empty");
        assert!(err.to_string().contains("is empty"), "{err}");
    }

    #[tokio::test]
    async fn an_in_memory_image_is_sent_as_png_with_alpha() {
        let img = DynamicImage::ImageRgba8(image::RgbaImage::new(6, 4));
        let loaded = InputLoader::default()
            .load(&ImageInput::from(img), "image")
            .await
            .expect("load");
        assert_eq!(loaded.format, ImageFormat::Png);
        assert!(loaded.has_alpha);
        assert_eq!((loaded.width, loaded.height), (6, 4));
    }

    #[tokio::test]
    async fn other_url_schemes_are_refused() {
        let err = InputLoader::default()
            .download("ftp://example.com/cat.png", "image")
            .await
            .expect_err("ftp");
        assert!(err.to_string().contains("scheme `ftp` is not allowed"), "{err}");
    }

    #[test]
    fn urls_in_debug_output_hide_their_query() {
        let input = ImageInput::Url("https://cdn.example.com/a.png?sig=secret".into());
        assert!(!format!("{input:?}").contains("secret"));
    }
}
