//! Shared libraries bound on first use.
//!
//! A crate that calls a C library through its `-sys` bindings normally makes the library a
//! needed one: the dynamic loader maps it (and everything it needs) at start, before `main`,
//! and refuses to start the program where it is missing. For libraries that only some runs
//! use (FFmpeg's ~110 libraries behind libavcodec, the ~30 behind libpulse, ALSA, PipeWire)
//! that costs every process megabytes of resident memory and makes the whole binary depend
//! on packages most of its commands never touch.
//!
//! This crate replaces the binding with trampolines (the technique of Implib.so):
//! - At build time ([`build::generate`], feature `build`), a crate's build script turns a
//!   list of the functions it calls ([`parse_list`]) into an assembly stub per function, of
//!   the function's own name, which jumps through a table slot. The stubs are linked whole, so
//!   they define every name the bindings call and the linker's `--as-needed` leaves the real
//!   libraries out of the binary's needed list.
//! - Each slot starts at a resolver entry that keeps every argument register and calls the
//!   crate's `onair_<group>_resolve(index)`, which returns the function's address (loading
//!   its library the first time, [`LazyLibrary`]); the slot keeps it, so later calls cost one
//!   indirect jump.
//!
//! Only x86-64 Linux gets trampolines; elsewhere [`build::generate`] does nothing and the
//! bindings link their libraries as usual. A function missing from a list still works: the
//! linker then takes it from the real library, which becomes a needed library again.

use std::ffi::{c_void, CStr};
use std::sync::OnceLock;

#[cfg(feature = "build")]
pub mod build;

/// One function of a list: its name and the library (soname) it is looked up in, `None` for
/// a list without sections (the group's resolver knows where to look).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFunction {
    /// The C name.
    pub name: String,
    /// The `[soname]` section it is listed under.
    pub library: Option<String>,
}

/// Reads a function list: one C name per line; `[libfoo.so.1]` starts the functions of that
/// library; `#` starts a comment line.
pub fn parse_list(text: &str) -> Vec<ListedFunction> {
    let mut library = None;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(soname) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            library = Some(soname.trim().to_owned());
            continue;
        }
        out.push(ListedFunction {
            name: line.to_owned(),
            library: library.clone(),
        });
    }
    out
}

/// A shared library opened on first use and never closed (trampolines point into it).
#[derive(Debug)]
pub struct LazyLibrary {
    soname: String,
    install: &'static str,
    opened: OnceLock<Result<libloading::Library, String>>,
}

impl LazyLibrary {
    /// The library `soname`; `install` says how to get it (`"apt-get install libasound2"`),
    /// for the error where it cannot be loaded.
    pub fn new(soname: impl Into<String>, install: &'static str) -> Self {
        Self {
            soname: soname.into(),
            install,
            opened: OnceLock::new(),
        }
    }

    /// The soname.
    pub fn soname(&self) -> &str {
        &self.soname
    }

    /// Opens the library if it is not yet: an error naming it and how to install it where it
    /// cannot be loaded.
    pub fn load(&self) -> Result<&libloading::Library, String> {
        self.opened
            .get_or_init(|| {
                // SAFETY: opening a system library runs its initialisers, which have no
                // preconditions; it is never closed, so no address taken from it dangles.
                unsafe { libloading::Library::new(&self.soname) }.map_err(|e| {
                    format!(
                        "cannot load {} (Debian/Ubuntu: {}): {e}",
                        self.soname, self.install
                    )
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The address of function `name`, loading the library first.
    pub fn function(&self, name: &CStr) -> Result<*const c_void, String> {
        let lib = self.load()?;
        // SAFETY: only the symbol's address is read; the trampoline calling it uses the
        // signature the bindings declare for that name.
        unsafe { lib.get::<*const c_void>(name.to_bytes_with_nul()) }
            .map(|s| *s)
            .map_err(|e| {
                format!(
                    "{} has no function {}: {e}",
                    self.soname,
                    name.to_string_lossy()
                )
            })
    }
}

/// For a group's `onair_<group>_resolve`: the address of `name` from the first of `libraries`
/// that has it. A trampoline has no way to report an error to its C caller, so where none
/// has it the process ends with the reason (callers avoid this by loading the library
/// first, [`LazyLibrary::load`], and returning that error).
pub fn resolve_or_abort(name: &CStr, libraries: &[&LazyLibrary]) -> *const c_void {
    let mut why = Vec::new();
    for lib in libraries {
        match lib.function(name) {
            Ok(f) => return f,
            Err(e) => why.push(e),
        }
    }
    eprintln!(
        "onair: cannot bind {}: {}",
        name.to_string_lossy(),
        why.join("; ")
    );
    std::process::abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_have_sections_and_comments() {
        let list =
            parse_list("# c\nfree_all\n\n[libasound.so.2]\n snd_pcm_open \n[libm.so.6]\ncos\n");
        let pairs: Vec<(&str, Option<&str>)> = list
            .iter()
            .map(|f| (f.name.as_str(), f.library.as_deref()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("free_all", None),
                ("snd_pcm_open", Some("libasound.so.2")),
                ("cos", Some("libm.so.6"))
            ]
        );
    }

    #[test]
    fn a_library_loads_once_and_a_missing_one_says_how_to_install_it() {
        let m = LazyLibrary::new("libm.so.6", "libc6");
        let cos = m.function(c"cos").expect("libm has cos");
        // SAFETY: `cos` has this signature.
        let cos: extern "C" fn(f64) -> f64 = unsafe { std::mem::transmute(cos) };
        assert_eq!(cos(0.0), 1.0);
        assert!(m.function(c"no_such_function_here").is_err());
        let missing = LazyLibrary::new("libonair-not-there.so.9", "apt-get install nothing");
        let e = missing.load().unwrap_err();
        assert!(
            e.contains("libonair-not-there.so.9") && e.contains("apt-get install nothing"),
            "{e}"
        );
    }
}
