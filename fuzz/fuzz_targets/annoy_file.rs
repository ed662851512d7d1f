//! The `annoy_file` fuzz target. What it feeds and its input layout are in
//! `tests/common/fuzz/annoy_file.rs`, which the normal test suite also runs on every kept finding
//! (`tests/fuzz_findings.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ann_fuzz::annoy_file::run(data));
