//! The multipart edit body reader: any bytes give an answer or an error, never a panic or a hang.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The first byte picks one of a few boundaries, so the rest can both match and miss it.
    let boundaries = ["b", "X-BOUNDARY", "----WebKitFormBoundary7MA4YWxkTrZu0gW"];
    let (choice, body) = data.split_first().unwrap_or((&0, &[]));
    msgflux_server::fuzzing::multipart_body(boundaries[usize::from(*choice) % boundaries.len()], body);
});
