//! Copies every section of `benches/RESULTS.md` into the README's matching
//! `<!-- results:NAME -->` block. Run by `cargo xtask bench` after the benches.

use onair_testkit::results::{quote_in_readme, results_path};
use std::fs;
use std::process::ExitCode;

fn main() -> ExitCode {
    let results_file = results_path();
    let Some(root) = results_file.parent().and_then(|p| p.parent()) else {
        eprintln!(
            "quote_results: no workspace root above {}",
            results_file.display()
        );
        return ExitCode::FAILURE;
    };
    let readme_path = root.join("README.md");
    let (results, readme) = match (
        fs::read_to_string(&results_file),
        fs::read_to_string(&readme_path),
    ) {
        (Ok(r), Ok(m)) => (r, m),
        (r, m) => {
            eprintln!(
                "quote_results: cannot read the results file ({:?}) or README ({:?})",
                r.err(),
                m.err()
            );
            return ExitCode::FAILURE;
        }
    };
    let updated = quote_in_readme(&readme, &results);
    if let Err(e) = fs::write(&readme_path, updated) {
        eprintln!("quote_results: cannot write {}: {e}", readme_path.display());
        return ExitCode::FAILURE;
    }
    println!("README.md now quotes {}", results_file.display());
    ExitCode::SUCCESS
}
