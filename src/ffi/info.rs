//! Library version, error messages, and names of codes.

use super::status::*;
use crate::metric::Metric;
use std::ffi::c_char;

/// The ABI version, part of the shared library's SONAME (`libann.so.1`). It changes only when
/// a change breaks existing callers; `ann_abi_version()` reports the one actually loaded.
pub const ANN_ABI_VERSION: u32 = 1;

/// Copies the message of the last failed call on the calling thread into `buf`. The message
/// says what was wrong and what to do. At most `len` bytes are written, always NUL-terminated
/// when `len > 0`. Returns the full length including the NUL: call with `len` 0 (`buf` may then
/// be NULL) to size a buffer. Successful calls leave the message as it was. Go callers must
/// keep the failing call and this one on one OS thread (`runtime.LockOSThread`).
#[no_mangle]
pub extern "C" fn ann_last_error_message(buf: *mut c_char, len: usize) -> usize {
    std::panic::catch_unwind(|| copy_last_error(buf.cast(), len)).unwrap_or(0)
}

/// The library's version, e.g. "0.1.0": a static string, never freed.
#[no_mangle]
pub extern "C" fn ann_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version of the library actually loaded; compare with `ANN_ABI_VERSION`.
#[no_mangle]
pub extern "C" fn ann_abi_version() -> u32 {
    ANN_ABI_VERSION
}

/// The name of a status code, e.g. "ANN_STATUS_IO": a static string, never freed.
/// Unknown codes give "ANN_STATUS_UNKNOWN".
#[no_mangle]
pub extern "C" fn ann_status_name(status: ann_status) -> *const c_char {
    let name: &'static std::ffi::CStr = match status {
        ANN_STATUS_OK => c"ANN_STATUS_OK",
        ANN_STATUS_NULL_POINTER => c"ANN_STATUS_NULL_POINTER",
        ANN_STATUS_INVALID_ARGUMENT => c"ANN_STATUS_INVALID_ARGUMENT",
        ANN_STATUS_INVALID_STATE => c"ANN_STATUS_INVALID_STATE",
        ANN_STATUS_IO => c"ANN_STATUS_IO",
        ANN_STATUS_CORRUPT_FILE => c"ANN_STATUS_CORRUPT_FILE",
        ANN_STATUS_OUT_OF_MEMORY => c"ANN_STATUS_OUT_OF_MEMORY",
        ANN_STATUS_BUFFER_TOO_SMALL => c"ANN_STATUS_BUFFER_TOO_SMALL",
        ANN_STATUS_PANIC => c"ANN_STATUS_PANIC",
        _ => c"ANN_STATUS_UNKNOWN",
    };
    name.as_ptr()
}

/// The canonical name of a metric ("angular", ...): a static string, never freed.
/// Unknown values give NULL.
#[no_mangle]
pub extern "C" fn ann_metric_name(metric: ann_metric) -> *const c_char {
    match Metric::from_code(metric) {
        Some(Metric::Angular) => c"angular".as_ptr(),
        Some(Metric::Euclidean) => c"euclidean".as_ptr(),
        Some(Metric::Manhattan) => c"manhattan".as_ptr(),
        Some(Metric::Dot) => c"dot".as_ptr(),
        Some(Metric::Hamming) => c"hamming".as_ptr(),
        None => std::ptr::null(),
    }
}
