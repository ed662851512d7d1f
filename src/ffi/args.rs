//! Turning C arguments into Rust values: the only place raw pointers become references.
//!
//! The contract every export documents, and the one the `// SAFETY:` comments below rely on:
//! a pointer argument is either NULL or valid for what its documentation says (a live handle
//! from `ann_new`/`ann_load`, `len` readable or writable elements, a NUL-terminated string),
//! and is not used concurrently in a way the header forbids. NULL, misalignment and freed
//! handles (best effort) are detected here and reported as errors.

use super::status::{Failure, ANN_STATUS_IO, ANN_STATUS_NULL_POINTER};
use crate::index::Index;
use std::ffi::{c_char, CStr};
use std::path::PathBuf;

/// An opaque handle given to C: a `Box` with a marker field, set while the handle is valid and
/// cleared when it is freed, so that (best effort) a freed handle is reported instead of used.
pub(crate) trait Handle: Sized {
    /// The marker's value while the handle is valid.
    const LIVE: u64;
    /// What makes such handles, for messages.
    const WHAT: &'static str;
    fn marker(&self) -> u64;
    fn clear_marker(&mut self);
}

/// A new handle owning `value`, for C.
pub(crate) fn boxed<T: Handle>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Frees a handle from `boxed`; NULL and already-freed handles are ignored.
pub(crate) fn free<T: Handle>(handle: *mut T) {
    if handle.is_null() || !handle.is_aligned() {
        return;
    }
    // SAFETY: per the contract, a non-NULL handle came from `boxed`. The marker check turns
    // the most common misuse, a double free, into a no-op as long as the memory was not reused.
    unsafe {
        if (*handle).marker() != T::LIVE {
            return;
        }
        (*handle).clear_marker();
        drop(Box::from_raw(handle));
    }
}

fn null(name: &str) -> Failure {
    Failure::new(
        ANN_STATUS_NULL_POINTER,
        format!("argument `{name}` is NULL"),
    )
}

/// Checks that `handle` (named `name`) is non-NULL, aligned and live.
fn check_handle<T: Handle>(handle: *const T, name: &str) -> Result<(), Failure> {
    if handle.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL handles are live handles per the contract; reading the marker of a freed
    // one is the best-effort detection described above.
    if !handle.is_aligned() || unsafe { (*handle).marker() } != T::LIVE {
        return Err(Failure::invalid(format!(
            "`{name}` is not a live handle (already freed, or not made by {})",
            T::WHAT
        )));
    }
    Ok(())
}

/// A live handle, for shared use (the functions taking `const T *`).
pub(crate) fn handle_ref<'a, T: Handle>(handle: *const T, name: &str) -> Result<&'a T, Failure> {
    check_handle(handle, name)?;
    // SAFETY: checked non-NULL, aligned and live; shared use of `const` handles is allowed.
    Ok(unsafe { &*handle })
}

/// A live handle, for exclusive use (the functions taking `T *` that the header says need it).
pub(crate) fn handle_mut<'a, T: Handle>(handle: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    check_handle(handle, name)?;
    // SAFETY: checked non-NULL, aligned and live; the header requires exclusive access here.
    Ok(unsafe { &mut *handle })
}

/// An index: opaque, made by `ann_new` or `ann_load`, released by `ann_free`.
#[allow(non_camel_case_types)]
pub struct ann_index {
    /// A marker that catches (best effort) use after `ann_free`.
    live: u64,
    pub(crate) index: Index,
}

impl Handle for ann_index {
    /// "ANN_LIVE".
    const LIVE: u64 = u64::from_be_bytes(*b"ANN_LIVE");
    const WHAT: &'static str = "ann_new, ann_load or ann_open";
    fn marker(&self) -> u64 {
        self.live
    }
    fn clear_marker(&mut self) {
        self.live = 0;
    }
}

impl ann_index {
    pub(crate) fn boxed(index: Index) -> *mut ann_index {
        boxed(ann_index {
            live: Self::LIVE,
            index,
        })
    }

    /// Frees a handle from `boxed`; NULL and already-freed handles are ignored.
    pub(crate) fn free(handle: *mut ann_index) {
        free(handle)
    }
}

pub(crate) fn index_ref<'a>(handle: *const ann_index) -> Result<&'a Index, Failure> {
    Ok(&handle_ref(handle, "index")?.index)
}

pub(crate) fn index_mut<'a>(handle: *mut ann_index) -> Result<&'a mut Index, Failure> {
    Ok(&mut handle_mut(handle, "index")?.index)
}

/// `len` elements at `ptr` (which may be NULL only when `len` is 0).
pub(crate) fn slice<'a, T>(ptr: *const T, len: usize, name: &str) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    check_pointer(ptr, name)?;
    check_len::<T>(len, name)?;
    // SAFETY: non-NULL, aligned, `len` within isize, and by the contract valid for `len` reads.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// `len` writable elements at `ptr` (which may be NULL only when `len` is 0).
pub(crate) fn slice_mut<'a, T>(
    ptr: *mut T,
    len: usize,
    name: &str,
) -> Result<&'a mut [T], Failure> {
    if len == 0 {
        return Ok(&mut []);
    }
    check_pointer(ptr, name)?;
    check_len::<T>(len, name)?;
    // SAFETY: non-NULL, aligned, `len` within isize, and by the contract valid for `len`
    // writes, not aliased.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// A writable output slot; check it before doing the work, write it after.
pub(crate) fn out_slot<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    check_pointer(ptr, name)?;
    // SAFETY: non-NULL, aligned, and by the contract valid for a write.
    Ok(unsafe { &mut *ptr })
}

/// No buffer can hold more than `isize::MAX` bytes; a larger length is a caller's bug.
fn check_len<T>(len: usize, name: &str) -> Result<(), Failure> {
    if len > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(Failure::invalid(format!(
            "the length given for `{name}` ({len}) is larger than any buffer can be"
        )));
    }
    Ok(())
}

fn check_pointer<T>(ptr: *const T, name: &str) -> Result<(), Failure> {
    if ptr.is_null() {
        return Err(null(name));
    }
    if !ptr.is_aligned() {
        return Err(Failure::invalid(format!(
            "argument `{name}` is not aligned to {} bytes",
            std::mem::align_of::<T>()
        )));
    }
    Ok(())
}

/// A NUL-terminated path. Any bytes but NUL are allowed on Unix; elsewhere it must be UTF-8.
pub(crate) fn path_arg(ptr: *const c_char, name: &str) -> Result<PathBuf, Failure> {
    if ptr.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL and, by the contract, a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    if bytes.is_empty() {
        // As for the operating system (ENOENT), an empty path names no file: an I/O error,
        // which every binding turns into its language's file error.
        return Err(Failure::new(
            ANN_STATUS_IO,
            format!("argument `{name}` is an empty path, which names no file"),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(PathBuf::from)
            .map_err(|_| Failure::invalid(format!("argument `{name}` is not valid UTF-8")))
    }
}

/// A NUL-terminated UTF-8 string.
pub(crate) fn string<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL and, by the contract, a NUL-terminated string that outlives the call.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| Failure::invalid(format!("argument `{name}` is not valid UTF-8")))
}
