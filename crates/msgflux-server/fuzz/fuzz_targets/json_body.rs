//! The JSON edit body reader: any bytes give an answer or an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    msgflux_server::fuzzing::json_body(data);
});
