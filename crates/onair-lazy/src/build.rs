//! The build script side: the trampolines for a group of functions (feature `build`).

use crate::parse_list;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// For the function list at `list` (relative to the crate's directory, [`crate::parse_list`]'s
/// format), writes `$OUT_DIR/<group>_functions.rs`, which defines
/// `pub(crate) const FUNCTIONS: [(&CStr, &str); N]` (name and `[soname]` section, `""` for
/// none) in the table's order, for the crate to `include!`. On x86-64 Linux it also compiles
/// the trampolines, links them whole, and sets `cfg(onair_lazy)`; the crate then defines
/// `#[no_mangle] extern "C" fn onair_<group>_resolve(index: u32) -> *const c_void`.
pub fn generate(group: &str, list: &str) {
    println!("cargo:rerun-if-changed={list}");
    println!("cargo::rustc-check-cfg=cfg(onair_lazy)");
    let text = std::fs::read_to_string(list).unwrap_or_else(|e| panic!("{list}: {e}"));
    let functions = parse_list(&text);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));

    let mut rs = String::from(
        "/// The functions, in the order of the trampolines' table: name and library (\"\": the\n\
         /// list has no section for it).\n",
    );
    writeln!(
        rs,
        "pub(crate) const FUNCTIONS: [(&std::ffi::CStr, &str); {}] = [",
        functions.len()
    )
    .unwrap();
    for f in &functions {
        writeln!(
            rs,
            "    (c\"{}\", \"{}\"),",
            f.name,
            f.library.as_deref().unwrap_or("")
        )
        .unwrap();
    }
    rs.push_str("];\n");
    write(&out.join(format!("{group}_functions.rs")), &rs);

    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if arch != "x86_64" || os != "linux" {
        return;
    }
    let names: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
    let asm = out.join(format!("{group}_trampolines.s"));
    write(&asm, &trampolines(group, &names));
    let lib = format!("onair_{group}_lazy");
    cc::Build::new()
        .file(&asm)
        .cargo_metadata(false)
        .compile(&lib);
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static:+whole-archive={lib}");
    println!("cargo:rustc-cfg=onair_lazy");
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The x86-64 System V assembly: the slot table, one stub per function, and the common
/// resolver entry, which keeps every argument register (integer, vector, and `%al` for
/// variadic calls) across the call into Rust.
pub fn trampolines(group: &str, names: &[&str]) -> String {
    let p = format!("onair_{group}");
    let mut s = String::new();
    writeln!(
        s,
        "    .section .data.rel.local.{p}_slots,\"aw\",@progbits\n    .balign 8\n{p}_slots:"
    )
    .unwrap();
    for i in 0..names.len() {
        writeln!(s, "    .quad {p}_unresolved_{i}").unwrap();
    }
    s.push_str("    .text\n");
    for (i, name) in names.iter().enumerate() {
        writeln!(
            s,
            "    .globl {name}\n    .hidden {name}\n    .type {name},@function\n    .balign 16\n\
             {name}:\n    jmp *{p}_slots+{off}(%rip)\n    .size {name}, .-{name}\n\
             {p}_unresolved_{i}:\n    mov ${i}, %r11d\n    jmp {p}_resolve_entry",
            off = i * 8
        )
        .unwrap();
    }
    s.push_str(&RESOLVE_ENTRY.replace("{p}", &p));
    s
}

/// Saves the argument registers, calls `{p}_resolve(index in %r11d)`, stores the address in
/// the slot, restores the registers and jumps to the function. Eight pushes plus 136 bytes
/// keep the stack 16-byte aligned at the call (the stub was entered with a return address on
/// it).
const RESOLVE_ENTRY: &str = "    .balign 16
{p}_resolve_entry:
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
    call {p}_resolve@PLT
    mov 136(%rsp), %r11
    lea {p}_slots(%rip), %r10
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
";
