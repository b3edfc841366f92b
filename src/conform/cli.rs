//! `lblab conform`'s flags and its exit status: 0 when every backend's
//! share agrees within ±2 points, 3 when one does not, 1 when it could
//! not run.

use crate::export::Engine;
use crate::model::SimDuration;
use std::process::ExitCode;

/// `lblab conform LAB --engine haproxy|nginx`.
#[derive(clap::Args, Debug)]
pub struct ConformArgs {
    /// A built-in lab name or the path of a .ron lab file.
    pub lab: String,
    /// The daemon to run the exported configuration under.
    #[arg(long, value_enum)]
    pub engine: Engine,
    /// Seed of the run (default: the lab's own seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Time to run, like 20s (default: the lab's duration).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub run_for: Option<SimDuration>,
}

/// Runs `lblab conform` and prints its report.
pub fn run_cli(args: ConformArgs) -> ExitCode {
    let lab = match crate::lab::resolve_real(&args.lab) {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let seed = args.seed.unwrap_or(lab.seed);
    match super::run(&lab, args.engine, seed, args.run_for) {
        Ok(report) => {
            print!("{}", report.to_table());
            if super::shares_agree(&report) {
                println!("conform: pass (every share within ±2 points)");
                ExitCode::SUCCESS
            } else {
                println!("conform: FAIL (a share differs by more than 2 points)");
                ExitCode::from(3)
            }
        }
        Err(e) => {
            eprintln!("lblab conform: {e}");
            ExitCode::from(1)
        }
    }
}

fn parse_duration(s: &str) -> Result<SimDuration, String> {
    match crate::spec::parse_duration(s) {
        Ok(d) if d > SimDuration::ZERO => Ok(d),
        Ok(_) => Err("the duration must be longer than zero".into()),
        Err(e) => Err(e.to_string()),
    }
}
