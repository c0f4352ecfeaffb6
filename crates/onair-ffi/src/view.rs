//! `onair_render_view_*`: render views for C (`RenderView`, LiteAV's `setRenderView` target),
//! made from the app's own native window: an X11 window (its Xlib `Display*` and window id)
//! or a Wayland surface. An `OnairRenderView*` is valid until `onair_render_view_release`;
//! pushers and players it is given to keep their own reference, so the app may release its
//! handle at once. The window must outlive every pusher or player drawing into it (call
//! `onair_*_set_render_view(.., NULL)` before destroying it); a window destroyed anyway ends
//! the view with a warning in the log, never a crash.

use crate::guard::{call, handle, null};
use crate::types::{OnairCode, ONAIR_ERROR_INVALID_PARAMETER};
use onair::raw_window_handle::{
    RawDisplayHandle, RawWindowHandle, WaylandDisplayHandle, WaylandWindowHandle,
    XlibDisplayHandle, XlibWindowHandle,
};
use onair::{LiveError, LiveResult, RenderView, V2TXLiveCode};
use std::ffi::c_void;
use std::os::raw::{c_int, c_ulong};
use std::ptr::NonNull;

/// A render view handle (opaque to C).
#[derive(Debug)]
pub struct OnairRenderView {
    pub(crate) view: RenderView,
}

/// Makes a view and writes its handle to `*out` (NULL on failure; the code and
/// `onair_last_error_message` say why: INVALID_PARAMETER for NULL or 0 arguments,
/// NOT_SUPPORTED without a GPU adapter or when the adapter cannot present to the window).
fn create(
    what: &str,
    out: *mut *mut OnairRenderView,
    make: impl FnOnce() -> LiveResult<RenderView>,
) -> OnairCode {
    call(what, || {
        if out.is_null() {
            return Err(null("out"));
        }
        // SAFETY: `out` is non-NULL and, by the contract, writable.
        unsafe { *out = std::ptr::null_mut() };
        let view = make()?;
        // SAFETY: as above.
        unsafe { *out = Box::into_raw(Box::new(OnairRenderView { view })) };
        Ok(())
    })
}

/// A view failure as NOT_SUPPORTED (no adapter, or one that cannot present to the window).
fn unsupported(e: onair::GpuError) -> LiveError {
    LiveError::new(V2TXLiveCode::ErrorNotSupported, e.to_string())
}

/// A view drawing into X11 window `window` of the app's Xlib connection `display` (a
/// `Display*`) on `screen`; the handle goes to `*out`.
///
/// # Safety
/// `display` is NULL or the app's open `Display*`, and it and the window stay valid until
/// the view's last user is done (see the module docs); `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn onair_render_view_create_x11(
    display: *mut c_void,
    screen: c_int,
    window: c_ulong,
    out: *mut *mut OnairRenderView,
) -> OnairCode {
    create("onair_render_view_create_x11", out, || {
        let display = NonNull::new(display).ok_or_else(|| null("display"))?;
        if window == 0 {
            return Err(LiveError::invalid("window 0 is not a window"));
        }
        let d = RawDisplayHandle::Xlib(XlibDisplayHandle::new(Some(display), screen));
        let w = RawWindowHandle::Xlib(XlibWindowHandle::new(window));
        // SAFETY: the caller keeps the display and window alive for the view.
        unsafe { RenderView::from_raw(d, w, None) }.map_err(unsupported)
    })
}

/// A view drawing into Wayland surface `surface` (a `wl_surface*`) of `display` (a
/// `wl_display*`); the handle goes to `*out`. Wayland surfaces have no size of their own: call
/// `onair_render_view_set_size` from the app's configure events.
///
/// # Safety
/// `display` and `surface` are NULL or live Wayland objects that stay valid until the view's
/// last user is done; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn onair_render_view_create_wayland(
    display: *mut c_void,
    surface: *mut c_void,
    out: *mut *mut OnairRenderView,
) -> OnairCode {
    create("onair_render_view_create_wayland", out, || {
        let display = NonNull::new(display).ok_or_else(|| null("display"))?;
        let surface = NonNull::new(surface).ok_or_else(|| null("surface"))?;
        let d = RawDisplayHandle::Wayland(WaylandDisplayHandle::new(display));
        let w = RawWindowHandle::Wayland(WaylandWindowHandle::new(surface));
        // SAFETY: the caller keeps the display and surface alive for the view.
        unsafe { RenderView::from_raw(d, w, None) }.map_err(unsupported)
    })
}

/// The window's inner size in pixels, for window systems that do not tell it (Wayland); X11
/// views follow their window by themselves.
///
/// # Safety
/// `view` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_render_view_set_size(
    view: *mut OnairRenderView,
    width: u32,
    height: u32,
) -> OnairCode {
    call("onair_render_view_set_size", || {
        // SAFETY: forwarded from the caller.
        let v = unsafe { handle(view, "view") }?;
        if width == 0 || height == 0 {
            return Err(LiveError::invalid(format!("size {width}x{height}")));
        }
        v.view.set_size(width, height);
        Ok(())
    })
}

/// 1 while the view draws, 0 once it stopped (its window is gone), or INVALID_PARAMETER.
///
/// # Safety
/// `view` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_render_view_is_alive(view: *mut OnairRenderView) -> OnairCode {
    // SAFETY: forwarded from the caller.
    match unsafe { view.as_ref() } {
        None => ONAIR_ERROR_INVALID_PARAMETER,
        Some(v) => OnairCode::from(v.view.is_alive()),
    }
}

/// Releases the app's handle (pushers and players holding the view keep drawing). NULL is
/// ignored.
///
/// # Safety
/// `view` is NULL or a live handle, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn onair_render_view_release(view: *mut OnairRenderView) {
    if view.is_null() {
        return;
    }
    let _ = call("onair_render_view_release", || {
        // SAFETY: a live handle, released once by the contract.
        drop(unsafe { Box::from_raw(view) });
        Ok(())
    });
}

/// The view behind `view` for a setter taking NULL as "none".
///
/// # Safety
/// `view` is NULL or a live handle.
pub(crate) unsafe fn optional_view(view: *const OnairRenderView) -> Option<RenderView> {
    // SAFETY: forwarded from the caller.
    unsafe { view.as_ref() }.map(|v| v.view.clone())
}
