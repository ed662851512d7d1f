//! Search options: an opaque object holding the effort (`search_k`) and the filter (allow-list,
//! deny-list, predicate) of `ann_search` and its by-item and batch forms. Opaque, so later
//! options add setters without breaking the ABI.

use super::args::{boxed, free, handle_mut, handle_ref, out_slot, slice, Handle};
use super::status::{ann_status, run, Failure};
use crate::filter::SearchOptions;
use std::ffi::c_void;

/// Search options: made by `ann_search_options_new`, released by `ann_search_options_free`.
/// Setters need exclusive access; while no setter runs, one object may be used by any number
/// of concurrent searches.
#[allow(non_camel_case_types)]
pub struct ann_search_options {
    pub(crate) options: SearchOptions,
}

impl Handle for ann_search_options {
    const TAG: u64 = u64::from_be_bytes(*b"ANN_OPTS");
    const WHAT: &'static str = "ann_search_options_new";
}

/// The C predicate and its context, made callable from the searching threads.
struct CFilter {
    accept: unsafe extern "C" fn(u64, *mut c_void) -> bool,
    context: *mut c_void,
}

// SAFETY: `ann_search_options_set_filter` documents that the callback may be called from
// several threads at once, with the same context, for as long as the options are in use; the
// caller guarantees the function and context allow that.
unsafe impl Send for CFilter {}
// SAFETY: as for `Send`: the library only ever passes `context` back to `accept`.
unsafe impl Sync for CFilter {}

impl CFilter {
    fn call(&self, key: u64) -> bool {
        // SAFETY: the caller gave a valid function for this context (see the setter's docs).
        unsafe { (self.accept)(key, self.context) }
    }
}

/// Options read by a search: NULL means the defaults.
pub(crate) fn options_ref<'a>(
    options: *const ann_search_options,
) -> Result<Option<&'a SearchOptions>, Failure> {
    if options.is_null() {
        return Ok(None);
    }
    Ok(Some(&handle_ref(options, "options")?.options))
}

fn options_mut<'a>(options: *mut ann_search_options) -> Result<&'a mut SearchOptions, Failure> {
    Ok(&mut handle_mut(options, "options")?.options)
}

/// Creates search options with the defaults: `search_k` -1 (`n * n_trees`), no filter.
/// `*out` receives a handle owned by the caller, released with `ann_search_options_free`.
///
/// Errors: `ANN_STATUS_NULL_POINTER` if `out` is NULL.
#[no_mangle]
pub extern "C" fn ann_search_options_new(out: *mut *mut ann_search_options) -> ann_status {
    run("ann_search_options_new", || {
        let slot = out_slot(out, "out")?;
        *slot = boxed(ann_search_options {
            options: SearchOptions::new(),
        });
        Ok(())
    })
}

/// Releases search options. NULL is a no-op, and so is a handle already freed.
/// No search may be using them.
#[no_mangle]
pub extern "C" fn ann_search_options_free(options: *mut ann_search_options) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| free(options)));
}

/// Sets how many accepted candidates a search collects: larger gives better recall and slower
/// searches; -1 means `n * n_trees`.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` below -1.
#[no_mangle]
pub extern "C" fn ann_search_options_set_search_k(
    options: *mut ann_search_options,
    search_k: i64,
) -> ann_status {
    run("ann_search_options_set_search_k", || {
        let options = options_mut(options)?;
        let k = super::query::parse_search_k(search_k)?;
        options.set_search_k(k);
        Ok(())
    })
}

/// Sets the beam width of a graph search: how many nodes the walk keeps, at least `n` (larger
/// gives better recall and slower searches). 0 derives it from search_k as
/// `max(n, 32, search_k / 16)`. Indexes without a graph ignore it.
///
/// Errors: `ANN_STATUS_NULL_POINTER`.
#[no_mangle]
pub extern "C" fn ann_search_options_set_ef(
    options: *mut ann_search_options,
    ef: usize,
) -> ann_status {
    run("ann_search_options_set_ef", || {
        options_mut(options)?.set_ef((ef > 0).then_some(ef));
        Ok(())
    })
}

/// Only these `n` keys may be returned. The list is copied (free it when you like); order and
/// repeats do not matter. `n` = 0 gives an empty allow-list, which accepts nothing. Replaces
/// an earlier allow-list.
///
/// Errors: `ANN_STATUS_NULL_POINTER` (options; keys when n > 0).
#[no_mangle]
pub extern "C" fn ann_search_options_set_allow_list(
    options: *mut ann_search_options,
    keys: *const u64,
    n: usize,
) -> ann_status {
    run("ann_search_options_set_allow_list", || {
        let options = options_mut(options)?;
        options.set_allow_list(slice(keys, n, "keys")?);
        Ok(())
    })
}

/// These `n` keys may not be returned. The list is copied; order and repeats do not matter;
/// `n` = 0 denies nothing. Replaces an earlier deny-list.
///
/// Errors: `ANN_STATUS_NULL_POINTER` (options; keys when n > 0).
#[no_mangle]
pub extern "C" fn ann_search_options_set_deny_list(
    options: *mut ann_search_options,
    keys: *const u64,
    n: usize,
) -> ann_status {
    run("ann_search_options_set_deny_list", || {
        let options = options_mut(options)?;
        options.set_deny_list(slice(keys, n, "keys")?);
        Ok(())
    })
}

/// Only keys for which `accept(key, context)` returns true may be returned; NULL `accept`
/// removes the predicate. `accept` is called during searches, possibly from several threads
/// at once (batch searches, concurrent searches sharing these options), so it and `context`
/// must allow that, and stay valid while the options are in use. It may call other ann
/// functions, searches included, except queries of the live index being searched (a writer
/// waiting between the two would wait for this search, which waits for the nested query).
///
/// Errors: `ANN_STATUS_NULL_POINTER` (options).
#[no_mangle]
pub extern "C" fn ann_search_options_set_filter(
    options: *mut ann_search_options,
    accept: Option<unsafe extern "C" fn(key: u64, context: *mut c_void) -> bool>,
    context: *mut c_void,
) -> ann_status {
    run("ann_search_options_set_filter", || {
        let options = options_mut(options)?;
        match accept {
            Some(accept) => {
                let filter = CFilter { accept, context };
                options.set_filter(move |key| filter.call(key));
            }
            None => options.predicate = None,
        }
        Ok(())
    })
}
