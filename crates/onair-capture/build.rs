//! Generates the trampolines that load ALSA, libpulse and PipeWire on first use (see
//! `src/audio_libs.rs` and the `onair-lazy` crate): one stub per function named in
//! `audio-functions.txt`, so the linker leaves those libraries, and the ~30 they need, out of
//! the binary's needed libraries (x86-64 Linux; other targets link them as usual).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    onair_lazy::build::generate("audio", "audio-functions.txt");
}
