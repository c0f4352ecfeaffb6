//! The benchmark results file, `benches/RESULTS.md`, which the README quotes.
//!
//! Each bench owns one section, delimited by `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`,
//! and rewrites only that section, so benches can run in any order and one at a time.

use std::fs;
use std::io;
use std::path::PathBuf;

/// Path of the results file (`benches/RESULTS.md` at the workspace root).
pub fn results_path() -> PathBuf {
    crate::workspace_root().join("benches").join("RESULTS.md")
}

/// Replaces (or appends) section `name` of `text` with `body`.
pub fn replace_section(text: &str, name: &str, body: &str) -> String {
    let open = format!("<!-- bench:{name} -->");
    let close = format!("<!-- /bench:{name} -->");
    let block = format!("{open}\n{}\n{close}", body.trim_end());
    match (text.find(&open), text.find(&close)) {
        (Some(start), Some(end)) if end > start => {
            format!("{}{}{}", &text[..start], block, &text[end + close.len()..])
        }
        _ => {
            let mut out = text.trim_end().to_string();
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&block);
            out.push('\n');
            out
        }
    }
}

/// Rewrites section `name` of the results file with `body` (markdown).
pub fn write_section(name: &str, body: &str) -> io::Result<PathBuf> {
    let path = results_path();
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            "# Benchmark results\n\nWritten by the benches (`cargo xtask bench`); quoted by the README.\n"
                .to_string()
        }
        Err(e) => return Err(e),
    };
    fs::write(&path, replace_section(&text, name, body))?;
    Ok(path)
}

/// The sections of a results file: (name, body) in file order.
pub fn sections(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!-- bench:") {
        let after = &rest[start + "<!-- bench:".len()..];
        let Some(name_end) = after.find(" -->") else {
            break;
        };
        let name = &after[..name_end];
        let close = format!("<!-- /bench:{name} -->");
        let body_start = name_end + " -->".len();
        let Some(close_at) = after.find(&close) else {
            break;
        };
        out.push((
            name.to_string(),
            after[body_start..close_at].trim().to_string(),
        ));
        rest = &after[close_at + close.len()..];
    }
    out
}

/// Copies every section of `results` into `readme`, between `<!-- results:NAME -->` and
/// `<!-- /results:NAME -->`. Returns the new README text.
pub fn quote_in_readme(readme: &str, results: &str) -> String {
    let mut text = readme.to_string();
    for (name, body) in sections(results) {
        let open = format!("<!-- results:{name} -->");
        let close = format!("<!-- /results:{name} -->");
        if let (Some(s), Some(e)) = (text.find(&open), text.find(&close)) {
            if e > s {
                text = format!("{}{open}\n{body}\n{}", &text[..s], &text[e..]);
            }
        }
    }
    text
}

/// Median time per call of `f` in nanoseconds, over `rounds` rounds of `iters` calls each
/// (after one warm-up round).
pub fn median_ns(rounds: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    let mut per_call = Vec::with_capacity(rounds);
    for round in 0..=rounds {
        let start = std::time::Instant::now();
        for _ in 0..iters {
            f();
        }
        if round > 0 {
            per_call.push(start.elapsed().as_secs_f64() * 1e9 / iters.max(1) as f64);
        }
    }
    per_call.sort_by(f64::total_cmp);
    quantile(&per_call, 0.5)
}

/// [`median_ns`] of two contenders measured in alternating rounds, so drift in the machine's
/// load (other processes, clock changes) hits both alike: `(f's, g's)`.
pub fn median_ns_alternating(
    rounds: usize,
    iters: usize,
    mut f: impl FnMut(),
    mut g: impl FnMut(),
) -> (f64, f64) {
    let (mut a, mut b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    let time = |h: &mut dyn FnMut()| {
        let start = std::time::Instant::now();
        for _ in 0..iters {
            h();
        }
        start.elapsed().as_secs_f64() * 1e9 / iters.max(1) as f64
    };
    for round in 0..=rounds {
        let (x, y) = (time(&mut f), time(&mut g));
        if round > 0 {
            a.push(x);
            b.push(y);
        }
    }
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    (quantile(&a, 0.5), quantile(&b, 0.5))
}

/// `true` when the bench binary runs under `cargo bench` (not `cargo test --benches`), the only
/// time it may rewrite the results file.
pub fn is_bench_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The `q`-quantile (0..=1) of already sorted samples, or 0 for none.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    sorted[idx]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_in_place() {
        let t = replace_section("# R\n", "a", "one");
        let t = replace_section(&t, "b", "two");
        let t = replace_section(&t, "a", "uno");
        assert!(t.contains("<!-- bench:a -->\nuno\n<!-- /bench:a -->"));
        assert!(t.contains("two"));
        assert!(!t.contains("one\n"));
        assert!(t.find("bench:a").unwrap() < t.find("bench:b").unwrap());
    }

    #[test]
    fn readme_quotes_sections() {
        let results = replace_section("", "a", "| x |");
        let readme = "intro\n<!-- results:a -->\nold\n<!-- /results:a -->\nend";
        let out = quote_in_readme(readme, &results);
        assert_eq!(
            out,
            "intro\n<!-- results:a -->\n| x |\n<!-- /results:a -->\nend"
        );
        assert_eq!(
            sections(&results),
            vec![("a".to_string(), "| x |".to_string())]
        );
    }

    #[test]
    fn quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 51.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
