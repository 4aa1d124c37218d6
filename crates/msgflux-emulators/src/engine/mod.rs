//! What every emulator shares: the contract checker, multipart reading, the
//! one fault type and its script, the journal of requests, the painted
//! answer, and serving on 127.0.0.1. A provider's emulator is its routes and
//! answers on top of these.

// Checking JSON and multipart bodies against an OpenAPI document (with the jsonschema crate).
mod contract;
// Multipart bodies as the emulators read them.
mod multipart;
// The one fault type, and the script that hands faults to requests.
mod faults;
// Every request received, its problems, and the answers' problems.
mod journal;
// "An edit": the input kept outside the mask and the edit area painted.
mod paint;
// Serving a router on 127.0.0.1, on the caller's runtime or a background one.
mod serve;

pub use contract::Contract;
pub(crate) use faults::lock;
pub use faults::{Fault, JobEnd, Script};
pub use journal::{Arrival, Journal, Recorded, RecordedBody};
pub use multipart::{Part, PartValue, read_multipart};
pub use paint::{MaskReading, data_uri_bytes, edit_area, encode, paint};
pub use serve::{Emulated, Served, start_resetting_server, wait_until};
