//! One error type for the whole crate.
//!
//! Every failure carries a kind (what went wrong, stable, mapped one-to-one onto C status codes
//! by the C API) and a message written for the person reading a log: what was wrong and what to
//! do about it.

use std::fmt;
use std::io;

/// What went wrong, in a form callers can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument is out of range: wrong vector length, unknown metric, id too large, NaN.
    InvalidArgument,
    /// The call does not fit the index's state: adding to a built index, querying an unbuilt one.
    InvalidState,
    /// The operating system refused a file operation.
    Io,
    /// The file does not start with this library's magic bytes.
    BadMagic,
    /// The file was written by a newer format version or uses features this library lacks.
    UnsupportedVersion,
    /// The file ends before the data its header promises.
    Truncated,
    /// The file's size, or a size recorded in it, disagrees with what its header implies.
    SizeMismatch,
    /// A recorded checksum does not match the bytes.
    ChecksumMismatch,
    /// The index structure is inconsistent (bad node references, impossible counts).
    Corrupt,
    /// An allocation the operation needs could not be made.
    OutOfMemory,
}

impl ErrorKind {
    /// True for every kind that means "this file cannot be trusted as an index".
    pub fn is_corrupt_file(self) -> bool {
        matches!(
            self,
            ErrorKind::BadMagic
                | ErrorKind::UnsupportedVersion
                | ErrorKind::Truncated
                | ErrorKind::SizeMismatch
                | ErrorKind::ChecksumMismatch
                | ErrorKind::Corrupt
        )
    }
}

/// An error with its kind, a human-readable message and, for I/O, the OS error behind it.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<io::Error>,
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidState, message)
    }

    pub(crate) fn corrupt(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, message)
    }

    pub(crate) fn out_of_memory(what: &str, bytes: usize) -> Self {
        Self::new(
            ErrorKind::OutOfMemory,
            format!("could not allocate {bytes} bytes for {what}"),
        )
    }

    /// An I/O failure; `context` says what was being done and to which path.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error {
            kind: ErrorKind::Io,
            message: format!("{}: {}", context.into(), source),
            source: Some(source),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message alone, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
