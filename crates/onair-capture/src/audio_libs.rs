//! The audio system's libraries, loaded on first use: ALSA (cpal's microphones and the
//! player's output), libpulse (the system audio loopback) and PipeWire (Wayland screen
//! capture).
//!
//! Linked the usual way, they and the ~30 libraries they need (libsndfile, FLAC, Vorbis, MP3,
//! X11, systemd, gcrypt...) are mapped into every onair process at start: ~3.5 MiB of resident
//! memory for a server or a screen push that never opens a sound device, and a binary that
//! does not start at all on a machine without them. So on x86-64 Linux every function the
//! bindings call (the list in `crates/onair-capture/audio-functions.txt`, by library) is a
//! stub that loads its library on its first call, through the `onair-lazy` crate.
//!
//! Each entry point calls [`ensure_loaded`] before its first call into a library and returns
//! its error (naming the package to install) where the library is missing; a stub reached
//! without that check ends the process with the same message, since a C call cannot fail.
//!
//! To refresh the list after calling a new function: build, then list the binary's undefined
//! names (`nm -D --undefined-only target/debug/onair`) that the four libraries define
//! (`nm -D --defined-only /usr/lib/x86_64-linux-gnu/libasound.so.2`, ...) and add them under
//! their library's section. The `cli` suite's `readelf` test fails while one is missing.

use onair_lazy::LazyLibrary;
use std::ffi::c_void;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/audio_functions.rs"));

/// A library of the audio system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioLibrary {
    /// ALSA's libasound (cpal: microphones, the player's output).
    Alsa,
    /// libpulse (the loopback's error texts and sample specs).
    Pulse,
    /// libpulse-simple (the loopback's recording stream).
    PulseSimple,
    /// libpipewire (Wayland screen capture).
    PipeWire,
}

/// Soname and Debian package of each [`AudioLibrary`], in its order.
const LIBRARIES: [(&str, &str); 4] = [
    ("libasound.so.2", "apt-get install libasound2"),
    ("libpulse.so.0", "apt-get install libpulse0"),
    ("libpulse-simple.so.0", "apt-get install libpulse0"),
    ("libpipewire-0.3.so.0", "apt-get install libpipewire-0.3-0"),
];

fn libraries() -> &'static [LazyLibrary; 4] {
    static LIBS: OnceLock<[LazyLibrary; 4]> = OnceLock::new();
    LIBS.get_or_init(|| LIBRARIES.map(|(soname, install)| LazyLibrary::new(soname, install)))
}

/// Loads `library` if it is not yet (libpulse-simple loads libpulse too): an error naming
/// it and its package where it cannot be.
pub fn ensure_loaded(library: AudioLibrary) -> Result<(), String> {
    if !cfg!(onair_lazy) {
        return Ok(());
    }
    let libs = libraries();
    if library == AudioLibrary::PulseSimple {
        libs[AudioLibrary::Pulse as usize].load()?;
    }
    libs[library as usize].load().map(|_| ())
}

/// The address of function `index` of [`FUNCTIONS`], for the trampolines' first call of it.
/// Never returns without one (see the module docs).
#[no_mangle]
pub extern "C" fn onair_audio_resolve(index: u32) -> *const c_void {
    let Some(&(name, soname)) = FUNCTIONS.get(index as usize) else {
        eprintln!("onair: audio trampoline {index} out of range");
        std::process::abort();
    };
    let libs = libraries();
    let Some(lib) = libs.iter().find(|l| l.soname() == soname) else {
        eprintln!(
            "onair: {} is listed under {soname:?}, which is not one of {:?}",
            name.to_string_lossy(),
            LIBRARIES.map(|l| l.0)
        );
        std::process::abort();
    };
    onair_lazy::resolve_or_abort(name, &[lib])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_function_names_one_of_the_libraries() {
        for (name, soname) in FUNCTIONS {
            assert!(
                LIBRARIES.iter().any(|l| l.0 == soname),
                "{name:?} is under {soname:?}"
            );
        }
    }
}
