//! The fuzz targets' code lives with the tests (`tests/common/fuzz/`), so the normal test
//! suite replays every kept finding through exactly what the fuzzer ran.
#[path = "../../tests/common/fuzz/mod.rs"]
mod harness;

pub use harness::*;
