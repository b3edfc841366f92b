//! The labs that ship inside the binary, and the lookup that lets a name
//! stand for either one of them or a file.

use super::error::LabError;
use super::load::{load_file, load_str};
use crate::spec::Lab;
use std::path::Path;

/// The lab used when none is named.
pub const DEFAULT_LAB: &str = "classic";

/// A built-in lab: its name and the text of `presets/<name>.ron`.
macro_rules! preset {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../presets/", $name, ".ron")),
        )
    };
}

/// Every built-in lab as (name, RON text), in teaching order, which is the
/// order lists show them.
pub const BUILTIN: &[(&str, &str)] = &[
    preset!("classic"),
    preset!("round-robin"),
    preset!("uneven-servers"),
    preset!("slow-server"),
    preset!("shootout"),
    preset!("peak-ewma"),
    preset!("least-requests"),
    preset!("consistent-hashing"),
    preset!("maglev-vs-ring"),
    preset!("bounded-load"),
    preset!("score"),
    preset!("your-own-algorithm"),
    preset!("server-dies"),
    preset!("outlier-ejection"),
    preset!("redispatch"),
    preset!("drain-vs-kill"),
    preset!("thundering-herd"),
    preset!("slow-start"),
    preset!("panic-threshold"),
    preset!("queue"),
    preset!("sticky-sessions"),
    preset!("idle-timeouts"),
    preset!("lossy-link"),
    preset!("syn-flood"),
    preset!("abusive-client"),
    preset!("allow-list"),
    preset!("syn-cookies"),
];

/// The one-line summary of each built-in lab, in [`BUILTIN`] order, parsed
/// once: lists and the lab picker show them on every frame.
pub fn builtin_summaries() -> &'static [(&'static str, String)] {
    static SUMMARIES: std::sync::OnceLock<Vec<(&'static str, String)>> = std::sync::OnceLock::new();
    SUMMARIES.get_or_init(|| {
        BUILTIN
            .iter()
            .map(|(name, _)| (*name, builtin(name).map(|l| l.summary).unwrap_or_default()))
            .collect()
    })
}

/// The built-in lab called `name`, parsed; an unknown name is an error that
/// lists the known ones.
pub fn builtin(name: &str) -> Result<Lab, LabError> {
    match builtin_text(name) {
        Some(text) => load_str(text, &format!("<builtin {name}>")),
        None => Err(LabError::whole(
            &format!("<builtin {name}>"),
            format!("no built-in lab with this name; built-in labs: {}", names()),
        )),
    }
}

/// The lab a command line means by `name_or_path`: a built-in name wins,
/// then an existing file of that name.
pub fn resolve(name_or_path: &str) -> Result<Lab, LabError> {
    if builtin_text(name_or_path).is_some() {
        return builtin(name_or_path);
    }
    let path = Path::new(name_or_path);
    if path.exists() {
        return load_file(path);
    }
    Err(LabError::whole(
        name_or_path,
        format!(
            "no such file, and not a built-in lab (built-in labs: {})",
            names()
        ),
    ))
}

fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

fn names() -> String {
    BUILTIN
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_is_the_source_design_written_out() {
        // Its scenario is exactly the defaults; only the teaching parts
        // (summary, lesson, timeline, objectives) are its own.
        let lab = builtin("classic").unwrap();
        let expected = Lab {
            summary: lab.summary.clone(),
            lesson: lab.lesson.clone(),
            timeline: lab.timeline.clone(),
            objectives: lab.objectives.clone(),
            ..Lab::named("classic")
        };
        assert_eq!(lab, expected);
        assert!(!lab.summary.is_empty() && !lab.summary.contains('\n'));
    }

    #[test]
    fn built_in_names_are_the_labs_own_names() {
        for (name, _) in BUILTIN {
            assert_eq!(builtin(name).unwrap().name, *name);
        }
    }

    #[test]
    fn the_default_lab_is_built_in() {
        assert!(builtin(DEFAULT_LAB).is_ok());
    }

    #[test]
    fn unknown_names_list_the_built_in_labs() {
        assert_eq!(
            builtin("nope").unwrap_err().to_string(),
            format!(
                "<builtin nope>: no built-in lab with this name; built-in labs: {}",
                names()
            )
        );
        assert_eq!(
            resolve("no-such-lab.ron").unwrap_err().to_string(),
            format!(
                "no-such-lab.ron: no such file, and not a built-in lab (built-in labs: {})",
                names()
            )
        );
        assert!(names().starts_with("classic, round-robin, "));
    }

    #[test]
    fn resolve_prefers_built_in_names_then_files() {
        assert_eq!(resolve("classic").unwrap().name, "classic");
        let lab = resolve(concat!(env!("CARGO_MANIFEST_DIR"), "/presets/classic.ron")).unwrap();
        assert_eq!(lab.name, "classic");
    }
}
