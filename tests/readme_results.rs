//! The README quotes `benches/RESULTS.md` verbatim: every results section the README names
//! holds exactly the numbers the bench command wrote (`cargo xtask bench` keeps them in step).

use onair_testkit::results::{quote_in_readme, results_path, sections};
use std::fs;

#[test]
fn readme_numbers_are_the_results_file_numbers() {
    let results = fs::read_to_string(results_path()).expect("benches/RESULTS.md exists");
    let readme_path = results_path()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("README.md");
    let readme = fs::read_to_string(&readme_path).expect("README.md exists");
    assert!(
        !sections(&results).is_empty(),
        "RESULTS.md has no bench sections"
    );
    for (name, _) in sections(&results) {
        assert!(
            readme.contains(&format!("<!-- results:{name} -->")),
            "README does not quote results section {name}"
        );
    }
    assert_eq!(
        quote_in_readme(&readme, &results),
        readme,
        "README is out of date with benches/RESULTS.md: run `cargo xtask bench`"
    );
}
