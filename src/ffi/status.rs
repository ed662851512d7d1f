//! Status codes, metric codes, and the one wrapper every export runs through.
//!
//! The wrapper turns a Rust `Result` into a status, records the failure's message for
//! `ann_last_error_message`, and catches panics so none unwinds into C.

use crate::error::{Error, ErrorKind};
use crate::metric::Metric;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A distance metric, as a fixed-width integer: a value out of range is an error, never UB.
#[allow(non_camel_case_types)]
pub type ann_metric = u32;
/// `sqrt(2 - 2 cos)`; also known as cosine.
pub const ANN_METRIC_ANGULAR: ann_metric = 0;
/// L2 distance.
pub const ANN_METRIC_EUCLIDEAN: ann_metric = 1;
/// L1 distance.
pub const ANN_METRIC_MANHATTAN: ann_metric = 2;
/// Inner product; larger is nearer, results sort descending.
pub const ANN_METRIC_DOT: ann_metric = 3;
/// Number of differing bits; `dim` counts bits.
pub const ANN_METRIC_HAMMING: ann_metric = 4;

/// The outcome of a call, as a fixed-width integer.
#[allow(non_camel_case_types)]
pub type ann_status = u32;
/// Success; outputs were written.
pub const ANN_STATUS_OK: ann_status = 0;
/// A required pointer argument was NULL.
pub const ANN_STATUS_NULL_POINTER: ann_status = 1;
/// An argument was out of range: dimension, metric, id, length, a NaN, a misaligned pointer.
pub const ANN_STATUS_INVALID_ARGUMENT: ann_status = 2;
/// The call does not fit the index's state (adding to a built index, querying an unbuilt one).
pub const ANN_STATUS_INVALID_STATE: ann_status = 3;
/// The operating system refused a file operation (missing file, permissions, disk full).
pub const ANN_STATUS_IO: ann_status = 4;
/// The file is not a valid index: wrong magic, unknown version, truncated, bad checksum.
pub const ANN_STATUS_CORRUPT_FILE: ann_status = 5;
/// Memory (or another resource, such as threads) ran out.
pub const ANN_STATUS_OUT_OF_MEMORY: ann_status = 6;
/// An output buffer was smaller than the result; nothing was written.
pub const ANN_STATUS_BUFFER_TOO_SMALL: ann_status = 7;
/// A bug inside the library was caught at the boundary; free the index involved.
pub const ANN_STATUS_PANIC: ann_status = 8;

pub(crate) fn metric_from_code(code: ann_metric) -> Result<Metric, Failure> {
    Metric::from_code(code).ok_or_else(|| {
        Failure::new(
            ANN_STATUS_INVALID_ARGUMENT,
            format!("unknown metric value {code}; expected 0 (angular) to 4 (hamming)"),
        )
    })
}

/// A failed call: its status and the message to record.
#[derive(Debug)]
pub(crate) struct Failure {
    status: ann_status,
    message: String,
}

impl Failure {
    pub fn new(status: ann_status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(ANN_STATUS_INVALID_ARGUMENT, message)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let status = match e.kind() {
            ErrorKind::InvalidArgument => ANN_STATUS_INVALID_ARGUMENT,
            ErrorKind::InvalidState => ANN_STATUS_INVALID_STATE,
            ErrorKind::Io => ANN_STATUS_IO,
            ErrorKind::OutOfMemory => ANN_STATUS_OUT_OF_MEMORY,
            kind if kind.is_corrupt_file() => ANN_STATUS_CORRUPT_FILE,
            _ => ANN_STATUS_PANIC,
        };
        Failure::new(status, e.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_last_error(message: String) {
    // `try_with`: during thread teardown the slot may be gone; losing the message beats aborting.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = message;
        }
    });
}

/// Copies the calling thread's last error message into `buf` (NUL-terminated, truncated to
/// `len`), returning the full length including the NUL.
pub(crate) fn copy_last_error(buf: *mut u8, len: usize) -> usize {
    LAST_ERROR
        .try_with(|slot| {
            let message = slot.try_borrow().map(|s| s.clone()).unwrap_or_default();
            let bytes = message.as_bytes();
            if !buf.is_null() && len > 0 {
                let n = bytes.len().min(len - 1);
                // SAFETY: the caller promises `buf` has room for `len` bytes; we write n + 1 <= len.
                unsafe {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, n);
                    *buf.add(n) = 0;
                }
            }
            bytes.len() + 1
        })
        .unwrap_or(1)
}

/// Runs the body of export `name`: maps its result to a status, records failures, and turns a
/// panic into `ANN_STATUS_PANIC`. Every export goes through here.
pub(crate) fn run(name: &str, body: impl FnOnce() -> Result<(), Failure>) -> ann_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => ANN_STATUS_OK,
        Ok(Err(failure)) => {
            set_last_error(format!("{name}: {}", failure.message));
            failure.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            set_last_error(format!(
                "{name}: internal error ({what}); this is a bug in ann, please report it, and free the index involved"
            ));
            ANN_STATUS_PANIC
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        let mut buf = [0u8; 256];
        let n = copy_last_error(buf.as_mut_ptr(), buf.len());
        String::from_utf8(buf[..n - 1].to_vec()).unwrap()
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = run("ann_test", || panic!("boom"));
        assert_eq!(status, ANN_STATUS_PANIC);
        assert!(last_error().starts_with("ann_test: internal error (boom)"));
        let status = run("ann_test", || panic!("{}", String::from("formatted")));
        assert_eq!(status, ANN_STATUS_PANIC);
        assert!(last_error().contains("formatted"));
    }

    #[test]
    fn messages_are_copied_truncated_and_sized() {
        run("ann_x", || Err(Failure::invalid("abcdef")));
        let full = "ann_x: abcdef";
        assert_eq!(copy_last_error(std::ptr::null_mut(), 0), full.len() + 1);
        let mut small = [0xffu8; 5];
        assert_eq!(copy_last_error(small.as_mut_ptr(), 5), full.len() + 1);
        assert_eq!(&small, b"ann_\0");
        assert_eq!(last_error(), full);
    }

    #[test]
    fn every_error_kind_maps_to_its_status() {
        let status = |kind| Failure::from(Error::new(kind, "x")).status;
        assert_eq!(
            status(ErrorKind::InvalidArgument),
            ANN_STATUS_INVALID_ARGUMENT
        );
        assert_eq!(status(ErrorKind::InvalidState), ANN_STATUS_INVALID_STATE);
        assert_eq!(status(ErrorKind::Io), ANN_STATUS_IO);
        assert_eq!(status(ErrorKind::OutOfMemory), ANN_STATUS_OUT_OF_MEMORY);
        for kind in [
            ErrorKind::BadMagic,
            ErrorKind::UnsupportedVersion,
            ErrorKind::Truncated,
            ErrorKind::SizeMismatch,
            ErrorKind::ChecksumMismatch,
            ErrorKind::Corrupt,
        ] {
            assert_eq!(status(kind), ANN_STATUS_CORRUPT_FILE);
        }
    }
}
