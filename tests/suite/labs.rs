//! The built-in labs keep their promises: each loads with what a student
//! needs (summary, lesson, duration, objectives), each solution script names
//! only servers its lab has, and each lab's objectives say what they claim:
//! with a solution, they fail untouched and pass with the script applied;
//! without one, they pass untouched. A student who follows the lesson,
//! each step's actions at its moment, ends the lab with every objective
//! passing too, and the solution script holds every action the lesson asks
//! for.

use lblab::engine::{ObjectiveStatus, Verdict};
use lblab::headless::{run_engine, stop_for};
use lblab::lab::{BUILTIN, builtin, load_commands};
use lblab::model::{SimDuration, SimTime};
use lblab::sim::World;
use lblab::spec::Origin;
use lblab::spec::{Lab, TimedCommand};
use std::path::{Path, PathBuf};

fn solutions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/solutions")
}

/// The solution script of the built-in lab `name`, if it has one.
fn solution(name: &str) -> Option<Vec<TimedCommand>> {
    let path = solutions_dir().join(format!("{name}.ron"));
    path.exists()
        .then(|| match load_commands(&path, &lab(name)) {
            Ok(script) => script,
            Err(e) => panic!("{name}: solution does not parse: {e}"),
        })
}

fn lab(name: &str) -> Lab {
    builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Runs `lab` as `lblab run` does (to its duration, or to completion), with
/// `script` applied; returns the objectives as the report judges them and
/// any log line saying a command could not be applied.
fn run(lab: &Lab, script: &[TimedCommand]) -> (Vec<ObjectiveStatus>, Vec<String>) {
    let mut world = World::new(lab, lab.seed);
    for entry in script {
        world.schedule_from(
            SimTime::ZERO + entry.at().get(),
            entry.command().clone(),
            Origin::Script,
        );
    }
    let stop = stop_for(lab, &world, None).expect("the lab can run headless");
    run_engine(&mut world, stop);
    let refused = world
        .snapshot()
        .log
        .iter()
        .filter(|e| e.text.contains("cannot "))
        .map(|e| format!("{} {}", e.at, e.text))
        .collect();
    (world.objective_statuses(true), refused)
}

fn show(statuses: &[ObjectiveStatus]) -> String {
    statuses
        .iter()
        .map(|s| {
            let value = s
                .value
                .map_or("no value".into(), |v| format!("{v:.2}{}", s.unit));
            format!(
                "\n    {:<7} {}: {} (measured {value})",
                s.verdict, s.name, s.claim
            )
        })
        .collect()
}

#[test]
fn every_built_in_lab_is_ready_to_teach() {
    assert!(BUILTIN.len() >= 11, "{} labs", BUILTIN.len());
    assert_eq!(BUILTIN[0].0, "classic", "classic comes first");
    for (name, _) in BUILTIN {
        let lab = lab(name);
        assert_eq!(lab.name, *name);
        assert!(
            !lab.summary.trim().is_empty() && !lab.summary.contains('\n'),
            "{name}: needs a one-line summary"
        );
        let (paragraphs, steps) = (lab.lesson.text.len(), lab.lesson.steps.len());
        assert!(
            (2..=4).contains(&paragraphs),
            "{name}: {paragraphs} lesson paragraphs"
        );
        assert!((3..=6).contains(&steps), "{name}: {steps} lesson steps");
        assert!(
            lab.lesson
                .text
                .iter()
                .chain(lab.lesson.steps.iter().map(|s| &s.text))
                .all(|t| !t.trim().is_empty()),
            "{name}: an empty paragraph or step"
        );
        assert!(
            lab.lesson.timed_steps().next().is_some(),
            "{name}: no step says when it happens"
        );
        assert!(
            (1..=3).contains(&lab.objectives.len()),
            "{name}: {} objectives",
            lab.objectives.len()
        );
        if *name == "classic" {
            assert_eq!(lab.duration, None, "classic runs to completion");
        } else {
            let d = lab
                .duration
                .unwrap_or_else(|| panic!("{name}: no duration"))
                .get();
            assert!(
                (SimDuration::from_secs(60)..=SimDuration::from_secs(300)).contains(&d),
                "{name}: lasts {d}"
            );
        }
    }
}

#[test]
fn every_solution_belongs_to_a_lab_and_names_only_its_servers() {
    let mut found = 0;
    for entry in std::fs::read_dir(solutions_dir()).expect("presets/solutions exists") {
        let path = entry.expect("readable directory").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a file name")
            .to_string();
        assert_eq!(
            path.extension().and_then(|e| e.to_str()),
            Some("ron"),
            "{}",
            path.display()
        );
        assert!(
            BUILTIN.iter().any(|(n, _)| *n == name),
            "{name}: a solution for no built-in lab"
        );
        let lab = lab(&name);
        let script = solution(&name).expect("the file exists");
        assert!(!script.is_empty(), "{name}: an empty solution");
        let servers: Vec<String> = lab.servers.expand().into_iter().map(|s| s.name).collect();
        for e in &script {
            if let Some(server) = e.command().server_name() {
                assert!(
                    servers.iter().any(|s| s == server),
                    "{name}: the solution names {server}; the lab has {servers:?}"
                );
            }
        }
        // Applied in order to the lab's World, no command is refused.
        let mut world = World::new(&lab, lab.seed);
        let mut ordered: Vec<&TimedCommand> = script.iter().collect();
        ordered.sort_by_key(|e| e.at());
        for e in ordered {
            world.apply(e.command().clone());
        }
        let log = world.snapshot().log;
        assert!(
            log.iter().all(|e| !e.text.starts_with("cannot")),
            "{name}: {:?}",
            log.iter().map(|e| &e.text).collect::<Vec<_>>()
        );
        found += 1;
    }
    assert!(found > 0, "no solutions found");
}

/// What is wrong with `name`'s objectives, if anything.
fn check_objectives(name: &str) -> Option<String> {
    let lab = lab(name);
    let all = |s: &[ObjectiveStatus], v: Verdict| s.iter().all(|o| o.verdict == v);
    let untouched = run(&lab, &[]);
    match solution(name) {
        None => (!all(&untouched.0, Verdict::Pass))
            .then(|| format!("{name}, untouched, must pass:{}", show(&untouched.0))),
        Some(script) => {
            let solved = run(&lab, &script);
            let mut problems = Vec::new();
            if !untouched.0.iter().any(|o| o.verdict == Verdict::Fail) {
                problems.push(format!(
                    "{name}, untouched, must fail at least one objective:{}",
                    show(&untouched.0)
                ));
            }
            if !all(&solved.0, Verdict::Pass) {
                problems.push(format!(
                    "{name}, with its solution, must pass:{}",
                    show(&solved.0)
                ));
            }
            if !solved.1.is_empty() {
                problems.push(format!("{name}: solution commands refused: {:?}", solved.1));
            }
            (!problems.is_empty()).then(|| problems.join("\n"))
        }
    }
}

/// `check` of every built-in lab, one thread per lab: the runs are
/// independent and the slowest (classic, to completion) sets the pace.
fn problems_of_every_lab(check: fn(&str) -> Option<String>) -> Vec<String> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = BUILTIN
            .iter()
            .map(|(name, _)| scope.spawn(move || check(name)))
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("a lab run panicked"))
            .collect()
    })
}

#[test]
fn objectives_fail_untouched_and_pass_with_the_solution() {
    let problems = problems_of_every_lab(check_objectives);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The steps a student followed, for a failure message.
fn show_steps(lab: &Lab) -> String {
    lab.lesson
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = s.at.map_or("untimed".to_string(), |a| format!("at {a}"));
            let actions: Vec<String> = s.actions.iter().map(|c| c.to_string()).collect();
            let text: String = s.text.chars().take(70).collect();
            format!("\n    step {} ({at}) {actions:?}: {text}", i + 1)
        })
        .collect()
}

/// What is wrong with the run a student makes of `name` by following its
/// lesson, if anything.
fn check_lesson(name: &str) -> Option<String> {
    let lab = lab(name);
    let (statuses, refused) = run(&lab, &lab.lesson.commands());
    let mut problems = Vec::new();
    if !statuses.iter().all(|o| o.verdict == Verdict::Pass) {
        problems.push(format!(
            "{name}, following the lesson's steps:{}\n  ends with:{}",
            show_steps(&lab),
            show(&statuses)
        ));
    }
    if !refused.is_empty() {
        problems.push(format!("{name}: lesson actions refused: {refused:?}"));
    }
    (!problems.is_empty()).then(|| problems.join("\n"))
}

#[test]
fn following_every_lesson_step_leaves_every_objective_passing() {
    let problems = problems_of_every_lab(check_lesson);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_solution_holds_the_actions_its_lesson_asks_for() {
    let mut missing = Vec::new();
    for (name, _) in BUILTIN {
        let lab = lab(name);
        let asked = lab.lesson.commands();
        let Some(script) = solution(name) else {
            assert!(
                asked.is_empty(),
                "{name}: the lesson acts but has no solution"
            );
            continue;
        };
        missing.extend(
            asked
                .iter()
                .filter(|a| !script.contains(a))
                .map(|a| format!("{name}: at {} {}", a.at(), a.command())),
        );
    }
    assert!(
        missing.is_empty(),
        "not in the solutions:\n{}",
        missing.join("\n")
    );
}

/// A weight of 0 means the same in a lab file as the dashboard's `-`
/// reaching 0: the backend takes no new connections.
#[test]
fn a_weight_of_zero_in_a_lab_file_takes_no_new_connections() {
    let lab: Lab = ron::from_str(
        r#"(name: "zero",
            duration: Some("20s"),
            balancer: (algorithm: WeightedRoundRobin),
            servers: List([(name: "a", weight: 1), (name: "b", weight: 0), (name: "c", weight: 2)]),
            clients: (closed: Some((population: 20, segments: Constant(3), gap: Constant("10ms"), think: Constant("50ms"), connections: None))))"#,
    )
    .expect("a weight of 0 loads");
    let mut world = World::new(&lab, lab.seed);
    let stop = stop_for(&lab, &world, None).expect("it has a duration");
    run_engine(&mut world, stop);
    let rows = world.snapshot().servers;
    let conns: Vec<u64> = rows.iter().map(|r| r.connections).collect();
    assert_eq!(conns[1], 0, "b (weight 0) took connections: {conns:?}");
    assert!(conns[0] > 100 && conns[2] > 2 * conns[0] - 20, "{conns:?}");
}
