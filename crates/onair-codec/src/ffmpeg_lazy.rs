//! FFmpeg loaded on first use: the resolver behind the trampolines `build.rs` generates
//! (with the `onair-lazy` crate).
//!
//! Debian's libavcodec needs ~110 shared libraries (x265, three AV1 encoders, SVG, teletext,
//! codec2...). A process that maps them at start carries ~19 MiB of resident memory for them,
//! and a pusher encoding openh264 and FDK AAC calls none of them. So on x86-64 Linux the
//! binary is not linked to FFmpeg at all: every FFmpeg function the bindings call (the list in
//! `crates/onair-codec/ffmpeg-functions.txt`) is a tiny stub of the same name that jumps through a table.
//! The first call of each lands in [`onair_ffmpeg_resolve`], which loads libavutil,
//! libswresample, libswscale and libavcodec (once, the sonames the bindings were generated
//! for) and returns the function's address; the stub stores it, and later calls cost one
//! indirect jump. libavformat is loaded the same way by [`crate::muxer`].
//!
//! A function missing from the list still works: the linker then takes it from libavcodec,
//! which becomes a needed library again (the `cli` suite's `readelf` test fails and says so).
//! To refresh the list after using a new FFmpeg function: build, then
//! `nm -u target/debug/onair | grep -E ' (av|avcodec|avutil|sws|swr)_' ` and add the names.
//!
//! Where FFmpeg's libraries cannot be loaded, [`ensure_loaded`] says so as an error (every
//! FFmpeg user in this crate calls it through `ffmpeg_init` before its first FFmpeg call); a
//! stub reached without it aborts the process with the same message, since a C call has no
//! way to fail.

use onair_lazy::LazyLibrary;
use std::ffi::c_void;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/ffmpeg_functions.rs"));

/// FFmpeg's libraries, in dependency order (the sonames the bindings were generated for).
fn libraries() -> &'static [LazyLibrary; 4] {
    use ffmpeg_next::ffi as f;
    static LIBS: OnceLock<[LazyLibrary; 4]> = OnceLock::new();
    const INSTALL: &str = "apt-get install libavcodec59 libswscale6 libswresample4";
    LIBS.get_or_init(|| {
        [
            format!("libavutil.so.{}", f::LIBAVUTIL_VERSION_MAJOR),
            format!("libswresample.so.{}", f::LIBSWRESAMPLE_VERSION_MAJOR),
            format!("libswscale.so.{}", f::LIBSWSCALE_VERSION_MAJOR),
            format!("libavcodec.so.{}", f::LIBAVCODEC_VERSION_MAJOR),
        ]
        .map(|soname| LazyLibrary::new(soname, INSTALL))
    })
}

/// Loads FFmpeg if it is not yet: an error naming what is missing where it cannot be.
pub fn ensure_loaded() -> Result<(), String> {
    if cfg!(onair_lazy) {
        libraries().iter().try_for_each(|l| l.load().map(|_| ()))
    } else {
        Ok(())
    }
}

/// The address of FFmpeg function `index` of [`FUNCTIONS`]; called by the trampolines' first
/// call of each function. Never returns without one: where FFmpeg cannot be loaded the process
/// ends with the reason (a C function call has no way to fail).
#[no_mangle]
pub extern "C" fn onair_ffmpeg_resolve(index: u32) -> *const c_void {
    let Some((name, _)) = FUNCTIONS.get(index as usize) else {
        eprintln!("onair: FFmpeg trampoline {index} out of range");
        std::process::abort();
    };
    let libs = libraries();
    if let Err(e) = ensure_loaded() {
        eprintln!("onair: {e}");
        std::process::abort();
    }
    onair_lazy::resolve_or_abort(name, &libs.each_ref())
}
