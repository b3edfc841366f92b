//! `lblab compare LAB --a FILE|COMMANDS --b FILE|COMMANDS`: the command
//! line side of a comparison.

use super::{Side, compare};
use crate::lab;
use crate::model::SimDuration;
use std::process::ExitCode;

/// Formats of `lblab compare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    /// Aligned text for people.
    Table,
    /// One JSON object, with both full reports.
    Json,
    /// A hand-out in Markdown.
    Markdown,
}

/// The arguments of `lblab compare`.
#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// A built-in lab name or the path of a .ron lab file.
    pub lab: String,
    /// Side A: a commands file (as `lblab run --commands` takes), one
    /// command applied at t=0 like 'SetAlgorithm(RoundRobin)', or a RON
    /// list like '[At("10s", KillServer("srv-1"))]' (default: the lab as
    /// it is).
    #[arg(long, value_name = "FILE|COMMANDS", default_value = "")]
    pub a: String,
    /// Side B, as --a; like 'SetAlgorithm(PowerOfTwoChoices)'.
    #[arg(long, value_name = "FILE|COMMANDS")]
    pub b: String,
    /// Seed of both runs, 0 to 18446744073709551615 (default: the lab's own
    /// seed).
    #[arg(long, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Simulated time to run each side, like 90s or 2m (default: the lab's
    /// duration, or until every client has finished).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub run_for: Option<SimDuration>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = CompareFormat::Table)]
    pub format: CompareFormat,
}

fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim().parse().map_err(|_| {
        format!(
            "expected a whole number from 0 to {}, found \"{s}\"",
            u64::MAX
        )
    })
}

fn parse_duration(s: &str) -> Result<SimDuration, String> {
    let d = crate::spec::parse_duration(s).map_err(|e| e.to_string())?;
    if d == SimDuration::ZERO {
        return Err("the duration must be longer than zero".into());
    }
    Ok(d)
}

/// Runs the comparison and renders it.
pub fn run(args: &CompareArgs) -> Result<String, String> {
    let lab = lab::resolve(&args.lab).map_err(|e| e.to_string())?;
    let a = Side::parse("a", &args.a, &lab)?;
    let b = Side::parse("b", &args.b, &lab)?;
    let seed = args.seed.unwrap_or(lab.seed);
    let c = compare(&lab, seed, args.run_for, a, b).map_err(|e| e.to_string())?;
    Ok(match args.format {
        CompareFormat::Table => c.to_table(),
        CompareFormat::Json => c.to_json(),
        CompareFormat::Markdown => c.to_markdown(),
    })
}

/// Runs `lblab compare`: 0 when printed, 1 on an error (said on stderr).
pub fn run_cli(args: CompareArgs) -> ExitCode {
    use std::io::Write;
    match run(&args) {
        Ok(text) => match std::io::stdout().lock().write_all(text.as_bytes()) {
            // A reader that went away ends the output quietly.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                eprintln!("lblab: cannot write to standard output: {e}");
                ExitCode::FAILURE
            }
            _ => ExitCode::SUCCESS,
        },
        Err(message) => {
            eprintln!("lblab: {message}");
            ExitCode::FAILURE
        }
    }
}
