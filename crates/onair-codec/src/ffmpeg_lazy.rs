//! FFmpeg loaded on first use: the resolver behind the trampolines `build.rs` generates.
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

use std::ffi::c_void;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/ffmpeg_functions.rs"));

/// The libraries, in dependency order.
fn sonames() -> [String; 4] {
    use ffmpeg_next::ffi as f;
    [
        format!("libavutil.so.{}", f::LIBAVUTIL_VERSION_MAJOR),
        format!("libswresample.so.{}", f::LIBSWRESAMPLE_VERSION_MAJOR),
        format!("libswscale.so.{}", f::LIBSWSCALE_VERSION_MAJOR),
        format!("libavcodec.so.{}", f::LIBAVCODEC_VERSION_MAJOR),
    ]
}

/// FFmpeg's libraries, loaded once and never unloaded (stubs point into them).
fn libraries() -> &'static Result<Vec<libloading::Library>, String> {
    static LIBS: OnceLock<Result<Vec<libloading::Library>, String>> = OnceLock::new();
    LIBS.get_or_init(|| {
        sonames()
            .iter()
            .map(|name| {
                // SAFETY: loading FFmpeg runs its libraries' initialisers, which have no
                // preconditions; the libraries are never unloaded.
                unsafe { libloading::Library::new(name) }.map_err(|e| {
                    format!(
                        "cannot load FFmpeg's {name} (Debian/Ubuntu: apt-get install \
                         libavcodec59 libswscale6 libswresample4): {e}"
                    )
                })
            })
            .collect()
    })
}

/// Loads FFmpeg if it is not yet: an error naming what is missing where it cannot be.
pub fn ensure_loaded() -> Result<(), String> {
    if cfg!(ffmpeg_lazy) {
        libraries().as_ref().map(|_| ()).map_err(Clone::clone)
    } else {
        Ok(())
    }
}

/// The address of FFmpeg function `index` of [`FUNCTIONS`]; called by the trampolines' first
/// call of each function. Never returns without one: where FFmpeg cannot be loaded the process
/// ends with the reason (a C function call has no way to fail).
#[no_mangle]
pub extern "C" fn onair_ffmpeg_resolve(index: u32) -> *const c_void {
    let Some(name) = FUNCTIONS.get(index as usize) else {
        eprintln!("onair: FFmpeg trampoline {index} out of range");
        std::process::abort();
    };
    let libs = match libraries() {
        Ok(libs) => libs,
        Err(e) => {
            eprintln!("onair: {e}");
            std::process::abort();
        }
    };
    for lib in libs {
        // SAFETY: only the symbol's address is read; the caller's stub calls it with the
        // signature the bindings declare for that name.
        if let Ok(symbol) = unsafe { lib.get::<*const c_void>(name.to_bytes_with_nul()) } {
            return *symbol;
        }
    }
    eprintln!(
        "onair: FFmpeg has no function {} (looked in {})",
        name.to_string_lossy(),
        sonames().join(", ")
    );
    std::process::abort();
}
