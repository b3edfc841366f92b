//! `lblab check --real`: what cannot run on real loopback sockets is
//! refused before anything runs, each refusal at its place in the file.
//! Every file in `tests/bad-labs-real/` loads (it is a valid lab) but is
//! refused with exactly the errors in its `.expected` sibling, one per
//! line, each line written after the file's path.

use crate::common;

use common::corpus;
use lblab::lab::{
    BUILTIN, LabError, builtin, check_real, check_real_commands, load_commands_str, load_file,
    load_real_commands, resolve_real,
};
use std::path::Path;

/// The text of the built-in lab `name`.
fn builtin_text(name: &str) -> &'static str {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .unwrap_or_else(|| panic!("no built-in lab {name}"))
}

/// The 1-based line and column (in characters) of the first `needle`.
fn line_col_of(text: &str, needle: &str) -> (usize, usize) {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        1 + before.matches('\n').count(),
        1 + before[line_start..].chars().count(),
    )
}

/// What `check_real` says of the built-in lab `name`.
fn check_builtin(name: &str) -> Result<(), Vec<LabError>> {
    let lab = builtin(name).unwrap_or_else(|e| panic!("{e}"));
    check_real(&lab, builtin_text(name), &format!("<builtin {name}>"))
}

#[test]
fn syn_flood_is_refused_at_its_flood_entry() {
    let text = builtin_text("syn-flood");
    let (line, col) = line_col_of(text, "At(\"20s\", StartFlood(");
    let errors = check_builtin("syn-flood").expect_err("a spoofed SYN flood cannot be real");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].col), (line, col));
    assert_eq!(errors[0].origin, "<builtin syn-flood>");
    let expected = format!(
        "<builtin syn-flood>:{line}:{col}: timeline[0]: --real cannot send spoofed SYNs: \
         a spoofed SYN flood needs raw sockets and addresses this machine does not own; \
         --real runs connection floods and slow senders for real, but not spoofed SYNs \
         (kind: ConnectionFlood or SlowSenders)"
    );
    assert_eq!(errors[0].to_string(), expected);
    assert_eq!(resolve_real("syn-flood").map(|l| l.name), Err(expected));
}

#[test]
fn labs_with_nothing_fake_pass() {
    for name in ["round-robin", "uneven-servers", "server-dies"] {
        assert_eq!(check_builtin(name), Ok(()), "{name}");
        assert_eq!(resolve_real(name).map(|l| l.name), Ok(name.to_string()));
    }
}

#[test]
fn a_lab_file_is_checked_as_a_file() {
    let path = corpus::dir("bad-labs-real").join("slow-start-on.ron");
    let path = path.to_str().expect("a UTF-8 path");
    let refused = resolve_real(path).expect_err("slow start is refused");
    assert!(refused.starts_with(&format!("{path}:")), "{refused}");
    let missing = resolve_real("no-such-lab.ron").expect_err("there is no such lab");
    assert!(
        missing.starts_with("no-such-lab.ron: no such file, and not a built-in lab"),
        "{missing}"
    );
}

#[test]
fn every_bad_real_lab_fails_with_its_expected_errors() {
    let labs = corpus::files("bad-labs-real", "ron");
    assert!(labs.len() >= 8, "only {} bad real labs", labs.len());
    let mut wrong = Vec::new();
    for lab in &labs {
        if let Err(e) = load_file(lab) {
            wrong.push(format!(
                "{}: does not load without --real: {e}",
                lab.display()
            ));
            continue;
        }
        let expected_path = lab.with_extension("expected");
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let expected: Vec<String> = expected
            .lines()
            .map(|line| format!("{}{line}", lab.display()))
            .collect();
        let path = lab.to_str().expect("a UTF-8 path");
        match resolve_real(path) {
            Ok(_) => wrong.push(format!("{}: passed, but should be refused", lab.display())),
            Err(found) if found != expected.join("\n") => wrong.push(format!(
                "expected:\n{}\n   found:\n{found}",
                expected.join("\n")
            )),
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn every_expectation_has_its_lab() {
    corpus::assert_every_expectation_has_its_lab("bad-labs-real");
}

#[test]
fn a_script_is_refused_at_its_commands() {
    let lab = builtin("round-robin").unwrap_or_else(|e| panic!("{e}"));
    let text = "[\n  At(\"1s\", Inspect(Off)),\n  At(\"2s\", SetLink(Clients, (loss: 0.5))),\n  \
                At(\"3s\", SetSynCookies(Always)),\n]";
    let script = load_commands_str(text, "s.ron", &lab).unwrap_or_else(|e| panic!("{e}"));
    let errors = check_real_commands(&script, text, "s.ron").expect_err("two are refused");
    let places: Vec<String> = errors
        .iter()
        .map(|e| format!("{}:{}:{}", e.origin, e.line, e.col))
        .collect();
    let (loss, cookies) = (line_col_of(text, "0.5"), line_col_of(text, "At(\"3s\""));
    assert_eq!(
        places,
        [
            format!("s.ron:{}:{}", loss.0, loss.1),
            format!("s.ron:{}:{}", cookies.0, cookies.1)
        ]
    );
    assert!(
        errors[0]
            .message
            .starts_with("command 2 of the script: --real cannot lose packets (loss 0.5)"),
        "{errors:?}"
    );
    assert!(
        errors[1]
            .message
            .starts_with("command 3 of the script: --real cannot answer SYNs with cookies"),
        "{errors:?}"
    );
}

#[test]
fn solutions_are_checked_like_scripts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/solutions");
    let lab = builtin("syn-cookies").unwrap_or_else(|e| panic!("{e}"));
    let refused = load_real_commands(&dir.join("syn-cookies.ron"), &lab)
        .expect_err("SYN cookies are the kernel's");
    // On overflow and always are refused; off is not.
    assert_eq!(refused.lines().count(), 2, "{refused}");
    let lab = builtin("server-dies").unwrap_or_else(|e| panic!("{e}"));
    assert!(load_real_commands(&dir.join("server-dies.ron"), &lab).is_ok());
}

/// Which built-in labs run for real, and the first refusal of the others.
#[test]
fn built_in_labs_pass_or_are_refused() {
    let mut passing = Vec::new();
    let mut refused = Vec::new();
    for (name, _) in BUILTIN {
        match check_builtin(name) {
            Ok(()) => passing.push(*name),
            Err(errors) => {
                for e in &errors {
                    println!("{e}");
                }
                refused.push(*name);
            }
        }
    }
    println!("pass: {}", passing.join(", "));
    println!("refused: {}", refused.join(", "));
    assert_eq!(
        refused,
        [
            "outlier-ejection",
            "slow-start",
            "panic-threshold",
            "queue",
            "lossy-link",
            "syn-flood",
            "abusive-client",
            "allow-list",
            "syn-cookies",
        ]
    );
}
