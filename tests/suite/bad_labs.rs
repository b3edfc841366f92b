//! Every file in `tests/bad-labs/` must fail to load with exactly the error
//! in its `.expected` sibling, so a change to any message or position is a
//! visible, reviewed change.

use crate::common;

use common::corpus;
use lblab::lab::{BUILTIN, builtin, load_file};

#[test]
fn every_bad_lab_fails_with_its_expected_error() {
    let labs = corpus::files("bad-labs", "ron");
    assert!(labs.len() >= 15, "only {} bad labs", labs.len());
    let mut wrong = Vec::new();
    for lab in &labs {
        let expected_path = lab.with_extension("expected");
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let expected = format!("{}:{}", lab.display(), expected.trim_end_matches('\n'));
        match load_file(lab) {
            Ok(_) => wrong.push(format!("{}: loaded, but should fail", lab.display())),
            Err(e) if e.to_string() != expected => {
                wrong.push(format!("expected: {expected}\n   found: {e}"));
            }
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn every_expectation_has_its_lab() {
    corpus::assert_every_expectation_has_its_lab("bad-labs");
}

#[test]
fn every_built_in_lab_loads() {
    assert!(!BUILTIN.is_empty());
    for (name, _) in BUILTIN {
        let lab = builtin(name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&lab.name, name, "a built-in lab is named as it is listed");
    }
}
