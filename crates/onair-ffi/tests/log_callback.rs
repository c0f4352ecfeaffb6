//! `onair_set_log_callback` routes the engine's log to the app: a failed call's sentence
//! arrives at DEBUG with its target, a lower level filters it out, NULL turns it off.
//! (Its own test binary: the callback is process-wide.)

use onair_ffi::log::*;
use onair_ffi::pusher::*;
use onair_ffi::types::*;
use std::ffi::{c_void, CStr};
use std::os::raw::c_char;
use std::sync::Mutex;

static LINES: Mutex<Vec<(i32, String, String)>> = Mutex::new(Vec::new());

unsafe extern "C" fn collect(
    user_data: *mut c_void,
    level: i32,
    target: *const c_char,
    message: *const c_char,
) {
    assert_eq!(user_data as usize, 0x5eed, "user_data comes back");
    // SAFETY: onair passes NUL-terminated strings valid for the call.
    let (t, m) = unsafe { (CStr::from_ptr(target), CStr::from_ptr(message)) };
    LINES.lock().unwrap().push((
        level,
        t.to_string_lossy().into_owned(),
        m.to_string_lossy().into_owned(),
    ));
}

fn failing_call() {
    let p = onair_pusher_create();
    // SAFETY: a live handle and a NUL-terminated URL; released once.
    unsafe {
        assert_eq!(
            onair_pusher_start_push(p, c"ftp://nowhere/x".as_ptr()),
            ONAIR_ERROR_INVALID_PARAMETER
        );
        onair_pusher_release(p);
    }
}

fn lines_about_ftp() -> Vec<(i32, String, String)> {
    let mut l = LINES.lock().unwrap();
    let found = l
        .iter()
        .filter(|(_, _, m)| m.contains("ftp://nowhere"))
        .cloned()
        .collect();
    l.clear();
    found
}

#[test]
fn the_log_reaches_the_callback_at_the_chosen_level() {
    let ud = 0x5eed as *mut c_void;
    // SAFETY: `collect` has the declared signature and may run on any thread.
    let set = unsafe { onair_set_log_callback(Some(collect), ud, ONAIR_LOG_DEBUG) };
    assert_eq!(set, ONAIR_OK);
    failing_call();
    let got = lines_about_ftp();
    assert!(
        got.iter()
            .any(|(level, target, m)| *level == ONAIR_LOG_DEBUG
                && target.starts_with("onair_ffi")
                && m.contains("onair_pusher_start_push")),
        "{got:?}"
    );

    // SAFETY: as above.
    let set = unsafe { onair_set_log_callback(Some(collect), ud, ONAIR_LOG_WARN) };
    assert_eq!(set, ONAIR_OK);
    failing_call();
    assert!(lines_about_ftp().is_empty(), "DEBUG lines filtered at WARN");

    // SAFETY: NULL turns the log off.
    let off = unsafe { onair_set_log_callback(None, ud, ONAIR_LOG_TRACE) };
    assert_eq!(off, ONAIR_OK);
    failing_call();
    assert!(lines_about_ftp().is_empty(), "nothing after NULL");

    // SAFETY: a level out of range is refused before anything is stored.
    let bad = unsafe { onair_set_log_callback(Some(collect), ud, 9) };
    assert_eq!(bad, ONAIR_ERROR_INVALID_PARAMETER);
}
