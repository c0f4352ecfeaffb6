//! # onair-ffi
//!
//! The C API of onair: `libonair.so` / `libonair.a` and `include/onair.h` (generated from
//! these sources by cbindgen and checked in), plus the header-only LiteAV-compatible C++ API
//! in `include/liteav/` built on it. See `docs/c-api.md` for the contract: naming, handles,
//! threads, codes, ownership of strings and frames.
//!
//! - [`types`]: codes, enums as integers with `#define`d values, frames, parameters, stats.
//! - [`pusher`] / [`pusher_observer`]: `onair_pusher_*` and `OnairPusherObserver`.
//! - [`player`] / [`player_observer`]: `onair_player_*` and `OnairPlayerObserver`.
//! - [`view`]: `onair_render_view_*`, the app's X11 window or Wayland surface as a render view.
//! - [`log`](crate::log): `onair_set_log_callback`.
//! - `guard` (NULL checks, error codes, the panic boundary) and `slot` (swapping observers
//!   while engine threads call them) are internal.
//!
//! The functions are `unsafe extern "C"`: they trust C's pointers to be NULL or valid, as
//! every C library must; everything else (values out of range, NULL, bad UTF-8, a frame of
//! the wrong length) is checked and answered with a code.

mod guard;
pub mod log;
pub mod player;
pub mod player_observer;
pub mod pusher;
pub mod pusher_observer;
mod slot;
pub mod types;
pub mod view;

use std::os::raw::c_char;
use types::OnairCode;

/// onair's version, e.g. "0.1.0" (a static string).
#[no_mangle]
pub extern "C" fn onair_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The name of a code, e.g. "ERROR_INVALID_PARAMETER" for -2 (a static string); "UNKNOWN"
/// for numbers that are not codes.
#[no_mangle]
pub extern "C" fn onair_code_message(code: OnairCode) -> *const c_char {
    static NAMES: std::sync::OnceLock<Vec<(OnairCode, std::ffi::CString)>> =
        std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        onair::V2TXLiveCode::ALL
            .iter()
            .map(|c| (c.value(), types::c_string(c.name())))
            .collect()
    });
    names
        .iter()
        .find(|(v, _)| *v == code)
        .map_or(c"UNKNOWN".as_ptr(), |(_, name)| name.as_ptr())
}

/// Why the last call that failed on this thread failed, in a sentence ("" before any
/// failure); valid until this thread's next onair call.
#[no_mangle]
pub extern "C" fn onair_last_error_message() -> *const c_char {
    guard::last_error()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn every_code_has_its_name_and_others_are_unknown() {
        for code in onair::V2TXLiveCode::ALL {
            // SAFETY: static NUL-terminated strings.
            let name = unsafe { CStr::from_ptr(onair_code_message(code.value())) };
            assert_eq!(name.to_str().unwrap(), code.name());
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(onair_code_message(12345)) };
        assert_eq!(unknown.to_str().unwrap(), "UNKNOWN");
        // SAFETY: as above.
        let v = unsafe { CStr::from_ptr(onair_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
