//! Reports pinned to the byte: a few built-in labs at two seeds against
//! tests/reports/ (`.ci/reports` checks every lab). A change to any number a
//! run prints fails here; after a change made on purpose, `.ci/reports
//! --write` pins them anew and the diff shows what moved.

use lblab::headless;
use lblab::lab::builtin;
use lblab::report::Format;
use lblab::sim::World;

fn pinned(lab: &str, seed: u64) -> String {
    let path = format!(
        "{}/tests/reports/{lab}.seed{seed}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn reports_match_the_pinned_ones_byte_for_byte() {
    for lab in ["round-robin", "server-dies", "lossy-link", "syn-cookies"] {
        let spec = builtin(lab).expect("built-in labs load");
        for seed in [1, 2] {
            let (report, _) =
                headless::run(World::maker(), &spec, seed, None, &[]).expect("the lab runs");
            let text: String = report
                .render(Format::Table)
                .lines()
                .filter(|l| !l.starts_with("wall time"))
                .map(|l| format!("{l}\n"))
                .collect();
            assert!(
                text == pinned(lab, seed),
                "{lab} seed {seed} differs from its pinned report:\n{text}"
            );
        }
    }
}
