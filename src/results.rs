//! The benchmark results file, `benches/RESULTS.md`, which the README quotes.
//!
//! Each bench owns one section, delimited by `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`,
//! and rewrites only that section, so benches can run in any order and one at a time.

use std::fs;
use std::io;
use std::path::PathBuf;

/// Path of the results file (`benches/RESULTS.md` at the workspace root).
pub fn results_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("benches")
        .join("RESULTS.md")
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
    fn quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 51.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
