//! The C ABI: `libann.so` / `libann.a` and the header `include/ann.h`, which cbindgen generates
//! from this module (see `cbindgen.toml`; `tests/header.rs` keeps the committed copy current).
//!
//! Conventions, stated once in the header too:
//! * An index is an opaque `ann_index *` from `ann_new` or `ann_load`, released by `ann_free`.
//! * Every fallible function returns an `ann_status`. Outputs are written only on success.
//!   `ann_last_error_message` copies the reason for the calling thread's last failure.
//! * Pointers are checked for NULL, handles against the registry of live handles (so a freed
//!   or garbage handle is an error, never read), sizes and ids for range. No Rust panic
//!   crosses the boundary: it becomes `ANN_STATUS_PANIC`.
//! * Calls taking `const ann_index *` may run concurrently from any threads; calls taking
//!   `ann_index *` need exclusive access to that index.

mod access;
mod args;
mod files;
mod handles;
mod info;
mod lifecycle;
mod live;
mod options;
mod query;
mod status;

pub use access::*;
pub use args::ann_index;
pub use files::*;
pub use info::*;
pub use lifecycle::*;
pub use live::*;
pub use options::*;
pub use query::*;
pub use status::{
    ann_metric, ann_status, ANN_METRIC_ANGULAR, ANN_METRIC_DOT, ANN_METRIC_EUCLIDEAN,
    ANN_METRIC_HAMMING, ANN_METRIC_MANHATTAN, ANN_STATUS_BUFFER_TOO_SMALL, ANN_STATUS_CORRUPT_FILE,
    ANN_STATUS_INVALID_ARGUMENT, ANN_STATUS_INVALID_STATE, ANN_STATUS_IO, ANN_STATUS_NULL_POINTER,
    ANN_STATUS_OK, ANN_STATUS_OUT_OF_MEMORY, ANN_STATUS_PANIC,
};
