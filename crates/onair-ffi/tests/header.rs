//! `include/onair.h` is what cbindgen makes of `src/` today: a stale checked-in header fails
//! here. `ONAIR_BLESS_HEADER=1 cargo test -p onair-ffi --test header` rewrites it.

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The header as cbindgen generates it from every source file of the crate.
fn generate() -> String {
    let dir = crate_dir();
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    // lib.rs: cbindgen follows its `mod` declarations to the other files.
    let builder = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"));
    let mut out = Vec::new();
    builder
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    String::from_utf8(out).expect("UTF-8 header")
}

#[test]
fn checked_in_header_is_what_cbindgen_generates() {
    let path: &Path = &crate_dir().join("include/onair.h");
    let fresh = generate();
    if std::env::var_os("ONAIR_BLESS_HEADER").is_some_and(|v| v == "1") {
        std::fs::write(path, &fresh).expect("write include/onair.h");
        return;
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "include/onair.h is stale: regenerate it with \
         `ONAIR_BLESS_HEADER=1 cargo test -p onair-ffi --test header` and commit it"
    );
    for name in [
        "onair_pusher_create",
        "onair_pusher_set_observer",
        "onair_player_enable_observe_video_frame",
        "typedef struct OnairPusherObserver",
        "void (*on_push_status_update)(void *user_data,",
    ] {
        assert!(fresh.contains(name), "the header declares {name}");
    }
}
