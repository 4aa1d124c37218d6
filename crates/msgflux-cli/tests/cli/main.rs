//! Integration tests of the `msgflux` binary: each test runs the real binary
//! and reads what it prints, writes and exits with. No test needs a key or
//! the internet: the local provider runs for real on small images, and the
//! OpenAI provider talks to the emulator the msgflux-openai crate ships
//! through `--base-url`, the Replicate provider to the Replicate helper's
//! emulator.

mod common;

mod batch;
mod bfl;
mod compare;
mod edit;
mod fal;
mod google;
mod leak;
mod mask;
mod prepare;
mod providers;
mod replicate;
mod sharded;
mod stability;
mod usage;
