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
    fn forgiving_decoding_takes_whitespace_and_missing_padding() {
        assert_eq!(decode_forgiving("aGVs\nbG8 ").expect("decode"), b"hello");
        assert_eq!(decode_forgiving("aGVsbG8").expect("decode"), b"hello");
        assert!(decode_forgiving("aGVsbG8*").is_err());
    }
}
