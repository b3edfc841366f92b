//! Corpora of lab files under `tests/`, each beside its `.expected`.

use std::path::{Path, PathBuf};

/// The corpus directory `tests/NAME`.
pub fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

/// The files of corpus `name` ending in `.EXT`, sorted.
pub fn files(name: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir(name))
        .unwrap_or_else(|e| panic!("the {name} corpus is readable: {e}"))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// Fails unless every `.expected` file of corpus `name` has its lab.
pub fn assert_every_expectation_has_its_lab(name: &str) {
    for expected in files(name, "expected") {
        assert!(
            expected.with_extension("ron").exists(),
            "{} has no .ron beside it",
            expected.display()
        );
    }
}
