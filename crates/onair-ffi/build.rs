//! Names the shared library `libonair.so` inside (its SONAME), whatever file name cargo gives
//! it (`libonair_ffi.so`); `cargo xtask ffi` installs it under that name.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libonair.so");
    }
}
