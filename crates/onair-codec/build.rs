//! Generates the trampolines that load FFmpeg on first use (see `src/ffmpeg_lazy.rs`).
//!
//! For every function named in `ffmpeg-functions.txt` this writes, on x86-64 Linux, an
//! assembly stub of that name that jumps through a table slot. Each slot starts at a resolver
//! that loads FFmpeg's libraries (the first time), looks the function up, writes the slot and
//! jumps to the function, so later calls cost one indirect jump. The stubs are linked whole
//! into every binary that links this crate; since they define the names the FFmpeg bindings
//! call, the linker's `--as-needed` leaves libavcodec, libavutil, libswscale and
//! libswresample out of the binary's needed libraries. Other targets link FFmpeg as usual.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=ffmpeg-functions.txt");
    println!("cargo::rustc-check-cfg=cfg(ffmpeg_lazy)");
    let list = std::fs::read_to_string("ffmpeg-functions.txt").expect("ffmpeg-functions.txt");
    let names: Vec<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));

    let mut rs = String::from("/// FFmpeg's functions, in the order of the trampolines' table.\n");
    writeln!(
        rs,
        "pub(crate) const FUNCTIONS: [&std::ffi::CStr; {}] = [",
        names.len()
    )
    .unwrap();
    for name in &names {
        writeln!(rs, "    c\"{name}\",").unwrap();
    }
    rs.push_str("];\n");
    std::fs::write(out.join("ffmpeg_functions.rs"), rs).expect("write ffmpeg_functions.rs");

    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if arch != "x86_64" || os != "linux" {
        return;
    }
    let asm = out.join("ffmpeg_trampolines.s");
    std::fs::write(&asm, trampolines(&names)).expect("write ffmpeg_trampolines.s");
    cc::Build::new()
        .file(&asm)
        .cargo_metadata(false)
        .compile("onair_ffmpeg_lazy");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static:+whole-archive=onair_ffmpeg_lazy");
    println!("cargo:rustc-cfg=ffmpeg_lazy");
}

/// The x86-64 System V assembly: the slot table, one stub per function, and the common
/// resolver entry, which keeps every argument register (integer, vector, and `%al` for
/// variadic calls) across the call into Rust.
fn trampolines(names: &[&str]) -> String {
    let mut s = String::new();
    s.push_str("    .section .data.rel.local.onair_ffmpeg_slots,\"aw\",@progbits\n");
    s.push_str("    .balign 8\nonair_ffmpeg_slots:\n");
    for i in 0..names.len() {
        writeln!(s, "    .quad onair_ffmpeg_unresolved_{i}").unwrap();
    }
    s.push_str("    .text\n");
    for (i, name) in names.iter().enumerate() {
        writeln!(
            s,
            "    .globl {name}\n    .hidden {name}\n    .type {name},@function\n    .balign 16\n\
             {name}:\n    jmp *onair_ffmpeg_slots+{off}(%rip)\n    .size {name}, .-{name}\n\
             onair_ffmpeg_unresolved_{i}:\n    mov ${i}, %r11d\n    jmp onair_ffmpeg_resolve_entry",
            off = i * 8
        )
        .unwrap();
    }
    s.push_str(
        "    .balign 16
onair_ffmpeg_resolve_entry:
    push %rdi
    push %rsi
    push %rdx
    push %rcx
    push %r8
    push %r9
    push %rax
    push %r11
    sub $136, %rsp
    movdqu %xmm0, 0(%rsp)
    movdqu %xmm1, 16(%rsp)
    movdqu %xmm2, 32(%rsp)
    movdqu %xmm3, 48(%rsp)
    movdqu %xmm4, 64(%rsp)
    movdqu %xmm5, 80(%rsp)
    movdqu %xmm6, 96(%rsp)
    movdqu %xmm7, 112(%rsp)
    mov %r11d, %edi
    call onair_ffmpeg_resolve@PLT
    mov 136(%rsp), %r11
    lea onair_ffmpeg_slots(%rip), %r10
    mov %rax, (%r10,%r11,8)
    mov %rax, %r11
    movdqu 0(%rsp), %xmm0
    movdqu 16(%rsp), %xmm1
    movdqu 32(%rsp), %xmm2
    movdqu 48(%rsp), %xmm3
    movdqu 64(%rsp), %xmm4
    movdqu 80(%rsp), %xmm5
    movdqu 96(%rsp), %xmm6
    movdqu 112(%rsp), %xmm7
    add $144, %rsp
    pop %rax
    pop %r9
    pop %r8
    pop %rcx
    pop %rdx
    pop %rsi
    pop %rdi
    jmp *%r11
    .section .note.GNU-stack,\"\",@progbits
",
    );
    s
}
