//! Integration tests of the `msgflux` binary: each test runs the real binary
//! and reads what it prints, writes and exits with. No test needs a key or
//! the internet: the local provider runs for real on small images, and the
//! OpenAI provider talks to the emulator the msgflux-openai crate ships
//! through `--base-url`, the Replicate provider to the Replicate helper's
//! emulator.

mod common;

mod batch;
mod compare;
mod edit;
mod google;
mod leak;
mod mask;
mod prepare;
mod providers;
mod replicate;
mod usage;
