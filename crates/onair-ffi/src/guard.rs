//! The boundary rules every exported function follows: NULL handles and pointers become
//! ERROR_INVALID_PARAMETER, errors become their V2TXLive code (the message goes to the log),
//! and a panic never unwinds into C.
//!
//! [`call`] is the one place in onair that catches a panic: unwinding out of an `extern "C"`
//! function would abort the host application, so a bug in onair costs the caller one
//! ERROR_FAILED (logged with its message) instead of its process. The engine itself does not
//! rely on it: its parsers and protocol code are written not to panic on any input.

use crate::types::{OnairCode, ONAIR_ERROR_FAILED, ONAIR_OK};
use onair::{LiveError, LiveResult};
use std::cell::RefCell;
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    /// The sentence of the last failed call on this thread (`onair_last_error_message`).
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn remember(message: &str) {
    LAST_ERROR.with(|l| *l.borrow_mut() = crate::types::c_string(message));
}

/// The last error sentence of this thread, valid until this thread's next onair call.
pub(crate) fn last_error() -> *const c_char {
    LAST_ERROR.with(|l| l.borrow().as_ptr())
}

/// Runs `f` for the exported function `what`: its result as a code, a panic as ERROR_FAILED.
/// A failure's sentence is logged and kept for `onair_last_error_message`.
pub(crate) fn call(what: &str, f: impl FnOnce() -> LiveResult) -> OnairCode {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => ONAIR_OK,
        Ok(Err(e)) => {
            tracing::debug!("{what}: {e}");
            remember(&format!("{what}: {e}"));
            e.code.value()
        }
        Err(panic) => {
            let m = format!("{what}: internal error: {}", panic_message(&panic));
            tracing::error!("{m}");
            remember(&m);
            ONAIR_ERROR_FAILED
        }
    }
}

/// Like [`call`] for functions that return a value: `fallback` on a panic.
pub(crate) fn call_value<T>(what: &str, fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        tracing::error!("{what}: internal error: {}", panic_message(&panic));
        fallback
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic")
}

/// INVALID_PARAMETER naming the NULL argument.
pub(crate) fn null(what: &str) -> LiveError {
    LiveError::invalid(format!("{what} is NULL"))
}

/// The handle behind `ptr`, or INVALID_PARAMETER.
///
/// # Safety
/// `ptr` is NULL or a live handle from this library's `*_create`.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> LiveResult<&'a T> {
    // SAFETY: the caller guarantees `ptr` is NULL or points to a live `T`.
    unsafe { ptr.as_ref() }.ok_or_else(|| null(what))
}

/// The UTF-8 string at `ptr`, or INVALID_PARAMETER (NULL or not UTF-8).
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that lives for the call.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, what: &str) -> LiveResult<&'a str> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| LiveError::invalid(format!("{what} is not UTF-8")))
}

/// `len` bytes at `ptr` (an empty slice for `len` 0), or INVALID_PARAMETER for NULL with a
/// length.
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes that live for the call.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> LiveResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL, `len` readable bytes by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ONAIR_ERROR_INVALID_PARAMETER;

    #[test]
    fn results_panics_and_nulls_become_codes() {
        assert_eq!(call("ok", || Ok(())), ONAIR_OK);
        assert_eq!(
            call("refused", || Err(LiveError::refused("no"))),
            onair::V2TXLiveCode::ErrorRefused.value()
        );
        assert_eq!(
            call("boom", || panic!("a bug")),
            ONAIR_ERROR_FAILED,
            "a panic is ERROR_FAILED, not an unwind into C"
        );
        // SAFETY: last_error returns a live NUL-terminated string of this thread.
        let last = unsafe { CStr::from_ptr(last_error()) }
            .to_str()
            .unwrap()
            .to_owned();
        assert!(last.contains("boom: internal error: a bug"), "{last}");
        assert_eq!(call_value("boom", 7, || panic!("a bug")), 7);
        // SAFETY: NULL is allowed.
        let e = unsafe { text(std::ptr::null(), "url") }.unwrap_err();
        assert_eq!(e.code.value(), ONAIR_ERROR_INVALID_PARAMETER);
        assert!(e.message.contains("url is NULL"));
        // SAFETY: NULL with a length is refused before any read.
        assert!(unsafe { bytes(std::ptr::null(), 4, "data") }.is_err());
        // SAFETY: NULL with length 0 reads nothing.
        assert!(unsafe { bytes(std::ptr::null(), 0, "data") }
            .unwrap()
            .is_empty());
    }
}
