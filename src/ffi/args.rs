//! Turning C arguments into Rust values: the only place raw pointers become references.
//!
//! The contract every export documents, and the one the `// SAFETY:` comments below rely on:
//! a pointer argument is either NULL or valid for what its documentation says (a live handle
//! from `ann_new`/`ann_load`, `len` readable or writable elements, a NUL-terminated string),
//! and is not used concurrently in a way the header forbids. NULL, misaligned, garbage and
//! freed handles are detected here (see `handles`) and reported as errors.

use super::handles;
use super::status::{Failure, ANN_STATUS_IO, ANN_STATUS_NULL_POINTER};
use crate::index::Index;
use std::ffi::{c_char, CStr};
use std::path::PathBuf;

/// An opaque handle given to C: a `Box` recorded in the registry of live handles (`handles`)
/// from `boxed` until `free`, under its type's tag.
pub(crate) trait Handle: Sized {
    /// The type's tag in the registry (eight ASCII bytes).
    const TAG: u64;
    /// What makes such handles, for messages.
    const WHAT: &'static str;
}

/// A new handle owning `value`, for C.
pub(crate) fn boxed<T: Handle>(value: T) -> *mut T {
    let handle = Box::into_raw(Box::new(value));
    handles::register(T::TAG, handle as usize);
    handle
}

/// Frees a handle from `boxed`; NULL, garbage and already-freed handles are ignored.
pub(crate) fn free<T: Handle>(handle: *mut T) {
    if handles::unregister(T::TAG, handle as usize) {
        // SAFETY: the registry held this address under T's tag, so it came from `boxed::<T>`
        // and was not freed since; removing it first makes this the only free.
        drop(unsafe { Box::from_raw(handle) });
    }
}

fn null(name: &str) -> Failure {
    Failure::new(
        ANN_STATUS_NULL_POINTER,
        format!("argument `{name}` is NULL"),
    )
}

/// Checks that `handle` (named `name`) is non-NULL and a live handle of its type.
fn check_handle<T: Handle>(handle: *const T, name: &str) -> Result<(), Failure> {
    if handle.is_null() {
        return Err(null(name));
    }
    if !handles::is_live(T::TAG, handle as usize) {
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
    // SAFETY: checked live in the registry, so it points to a `T` from `boxed`; shared use of
    // `const` handles is allowed.
    Ok(unsafe { &*handle })
}

/// A live handle, for exclusive use (the functions taking `T *` that the header says need it).
pub(crate) fn handle_mut<'a, T: Handle>(handle: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    check_handle(handle, name)?;
    // SAFETY: checked live in the registry, so it points to a `T` from `boxed`; the header
    // requires exclusive access here.
    Ok(unsafe { &mut *handle })
}

/// An index: opaque, made by `ann_new` or `ann_load`, released by `ann_free`.
#[allow(non_camel_case_types)]
pub struct ann_index {
    pub(crate) index: Index,
}

impl Handle for ann_index {
    const TAG: u64 = u64::from_be_bytes(*b"ANN_INDX");
    const WHAT: &'static str = "ann_new, ann_load or ann_open";
}

impl ann_index {
    pub(crate) fn boxed(index: Index) -> *mut ann_index {
        boxed(ann_index { index })
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
