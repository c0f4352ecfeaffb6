//! Generates the trampolines that load FFmpeg on first use (see `src/ffmpeg_lazy.rs` and the
//! `onair-lazy` crate): one stub per function named in `ffmpeg-functions.txt`, so the linker
//! leaves libavcodec, libavutil, libswscale and libswresample out of the binary's needed
//! libraries (x86-64 Linux; other targets link FFmpeg as usual).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    onair_lazy::build::generate("ffmpeg", "ffmpeg-functions.txt");
}
