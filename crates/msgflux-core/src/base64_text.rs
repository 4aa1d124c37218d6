//! Base64 of image files, in both directions. Results arrive as megabytes
//! of it (`b64_json`, `data:` URLs), so this uses SIMD (base64-simd, with
//! the CPU's features detected at run time): the scalar engine was a
//! quarter of the CPU of a 1024x1024 dall-e-2 edit (bench/openai/batch.sh
//! under `perf`).

/// Decodes standard base64 with its padding, nothing else allowed (what
/// providers send).
pub(crate) fn decode_strict(text: &str) -> Result<Vec<u8>, String> {
    base64_simd::STANDARD
        .decode_to_vec(text.as_bytes())
        .map_err(|err| err.to_string())
}

/// The first bytes a base64 text stands for.
pub(crate) struct Head {
    pub(crate) bytes: Vec<u8>,
    /// The text was short enough that `bytes` is all of it.
    pub(crate) is_whole: bool,
}

/// Checks standard padded base64 without decoding it, and decodes only
/// its first `max_bytes` (rounded down to whole groups): enough to read an
/// image's header. The pipeline checks every result this way, and the one
/// full decode is left to whoever saves it (a 1024x1024 result was decoded
/// twice before, 0.3 ms of a 4 ms edit).
pub(crate) fn check_strict_and_decode_head(text: &str, max_bytes: usize) -> Result<Head, String> {
    let text = text.as_bytes();
    base64_simd::STANDARD.check(text).map_err(|err| err.to_string())?;
    // A valid text has padding only in its last group, so any whole-group
    // prefix of it short of the end is valid unpadded base64.
    let head_chars = (max_bytes / 3) * 4;
    let is_whole = text.len() <= head_chars;
    let head = if is_whole { text } else { &text[..head_chars] };
    let bytes = base64_simd::STANDARD
        .decode_to_vec(head)
        .map_err(|err| err.to_string())?;
    Ok(Head { bytes, is_whole })
}

/// Decodes base64 the way browsers read it (WHATWG forgiving-base64):
/// ASCII whitespace anywhere and missing padding are accepted (what people
/// paste).
pub(crate) fn decode_forgiving(text: &str) -> Result<Vec<u8>, String> {
    base64_simd::forgiving_decode_to_vec(text.as_bytes()).map_err(|err| err.to_string())
}

/// Encodes bytes as standard padded base64.
pub(crate) fn encode(bytes: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn encoding_matches_the_standard_engine_at_every_length() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        for len in [0, 1, 2, 3, 31, 32, 33, 95, 96, 97, 1000, 3000] {
            assert_eq!(encode(&bytes[..len]), STANDARD.encode(&bytes[..len]), "length {len}");
        }
    }

    #[test]
    fn strict_decoding_reverses_encoding() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(4099).collect();
        assert_eq!(decode_strict(&encode(&bytes)).expect("decode"), bytes);
    }

    #[test]
    fn strict_decoding_refuses_whitespace_missing_padding_and_stray_characters() {
        assert!(decode_strict("aGVs bG8=").is_err());
        assert!(decode_strict("aGVsbG8").is_err());
        assert!(decode_strict("aGVsbG8*").is_err());
    }

    #[test]
    fn checking_with_a_head_decodes_only_the_head_of_a_valid_text() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let text = encode(&bytes);
        let head = check_strict_and_decode_head(&text, 100).expect("valid");
        assert_eq!((&head.bytes[..], head.is_whole), (&bytes[..99], false));
        let whole = check_strict_and_decode_head(&text, 1 << 20).expect("valid");
        assert_eq!((whole.bytes, whole.is_whole), (bytes, true));
        assert_eq!(
            check_strict_and_decode_head(&encode(b"hello"), 3).expect("valid").bytes,
            b"hel"
        );
    }

    #[test]
    fn checking_with_a_head_refuses_a_fault_after_the_head() {
        let mut text = encode(&[7u8; 3000]);
        text.replace_range(3000..3001, "*");
        assert!(check_strict_and_decode_head(&text, 30).is_err());
        assert!(check_strict_and_decode_head("aGVsbG8", 3).is_err(), "missing padding");
    }

    #[test]
    fn forgiving_decoding_takes_whitespace_and_missing_padding() {
        assert_eq!(decode_forgiving("aGVs\nbG8 ").expect("decode"), b"hello");
        assert_eq!(decode_forgiving("aGVsbG8").expect("decode"), b"hello");
        assert!(decode_forgiving("aGVsbG8*").is_err());
    }
}
