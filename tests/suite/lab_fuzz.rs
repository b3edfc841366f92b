//! Mutated copies of a real lab must never make the loader panic or hang:
//! whatever the bytes, `load_str` returns, with a lab or with an error.
//!
//! A failing case is printed, shrunk, and saved in
//! `lab_fuzz.proptest-regressions` beside this file, which replays it first
//! on every later run: commit that file with the fix. `PROPTEST_RNG_SEED`
//! fixes the seed to rerun a whole session.

use lblab::lab::load_str;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

const CLASSIC: &str = include_str!("../../presets/classic.ron");

/// Pieces of RON syntax that stress the parser more than random bytes do.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "'",
    "r#\"",
    "\"#",
    "/*",
    "*/",
    "//",
    "\n",
    "Some(",
    "None",
    "-",
    ".",
    "e99",
    "1e400",
    "NaN",
    "inf",
    "0x",
    "\\",
    "#![enable(implicit_some)]",
    "name:",
    "servers: List([])",
    "µ",
    "\u{feff}",
    "\0",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete {
        at: usize,
        len: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Replace {
        at: usize,
        byte: u8,
    },
    Token {
        at: usize,
        token: usize,
    },
    Duplicate {
        from: usize,
        len: usize,
        to: usize,
    },
    Nest {
        at: usize,
        depth: usize,
        bracket: u8,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 1..64usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (at, prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (at, any::<u8>()).prop_map(|(at, byte)| Mutation::Replace { at, byte }),
        (at, 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Token { at, token }),
        (at, 1..512usize, any::<usize>()).prop_map(|(from, len, to)| Mutation::Duplicate {
            from,
            len,
            to
        }),
        (
            at,
            prop_oneof![1..200usize, Just(100_000usize)],
            prop::sample::select(&b"([{"[..])
        )
            .prop_map(|(at, depth, bracket)| Mutation::Nest { at, depth, bracket }),
    ]
}

fn apply(text: &mut Vec<u8>, m: &Mutation) {
    let n = text.len();
    let pos = |at: usize| if n == 0 { 0 } else { at % (n + 1) };
    match m {
        Mutation::Delete { at, len } => {
            let start = pos(*at);
            let end = (start + len).min(n);
            text.drain(start..end);
        }
        Mutation::Insert { at, bytes } => {
            let at = pos(*at);
            text.splice(at..at, bytes.iter().copied());
        }
        Mutation::Replace { at, byte } => {
            if n > 0 {
                text[at % n] = *byte;
            }
        }
        Mutation::Token { at, token } => {
            let at = pos(*at);
            text.splice(at..at, TOKENS[*token].bytes());
        }
        Mutation::Duplicate { from, len, to } => {
            let start = pos(*from);
            let slice = text[start..(start + len).min(n)].to_vec();
            let to = pos(*to);
            text.splice(to..to, slice);
        }
        Mutation::Nest { at, depth, bracket } => {
            let at = pos(*at);
            text.splice(at..at, std::iter::repeat_n(*bracket, *depth));
        }
    }
}

proptest! {
    // Enough cases to reach the odd corners, few enough for a debug build
    // to finish in a few seconds.
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_labs_never_panic(mutations in prop::collection::vec(mutation(), 1..8)) {
        let mut bytes = CLASSIC.as_bytes().to_vec();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = load_str(&text, "fuzz.ron") {
            // A position, when there is one, must be inside the text.
            if let Some((line, col)) = e.position() {
                let lines: Vec<&str> = text.split('\n').collect();
                prop_assert!(line <= lines.len(), "{e}");
                prop_assert!(col <= lines[line - 1].chars().count() + 1, "{e}");
            }
        }
    }
}

#[test]
fn the_unmutated_lab_loads() {
    assert!(load_str(CLASSIC, "classic.ron").is_ok());
}
