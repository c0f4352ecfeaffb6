//! # onair-suite
//!
//! The workspace's root package: it hosts the cross-crate `examples/`, the interop suites in
//! `tests/` and the comparative benchmarks in `benches/`. This library holds what those share,
//! such as writing benchmark results to the file the README quotes ([`results`]).

pub mod captures;
pub mod desktop;
pub mod gpu_effect;
pub mod http_probe;
pub mod impair;
pub mod live_source;
pub mod peers;
pub mod results;
pub mod throttle;

/// The README's Rust snippets, compiled (and the runnable ones run) as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
