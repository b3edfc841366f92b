//! The `lblab` command line.

use clap::{Parser, Subcommand};
use lblab::headless;
use lblab::lab::{self, DEFAULT_LAB};
use lblab::model::SimDuration;
use lblab::report::Format;
use std::process::ExitCode;

/// A terminal laboratory for Layer-4 load balancing.
#[derive(Parser, Debug)]
#[command(name = "lblab", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run a lab headless, as fast as the CPU allows, and print its report.
    Run {
        /// A built-in lab name or the path of a .ron lab file.
        lab: String,
        /// Seed of the run (default: the lab's own seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Simulated time to run, like 90s or 2m (default: the lab's
        /// duration, or until every client has finished).
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
        run_for: Option<SimDuration>,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

fn parse_duration(s: &str) -> Result<SimDuration, String> {
    let d = lab::parse_duration(s)?;
    if d == SimDuration::ZERO {
        return Err("the duration must be longer than zero".into());
    }
    Ok(d)
}

fn run(
    lab_name: &str,
    seed: Option<u64>,
    run_for: Option<SimDuration>,
    format: Format,
) -> Result<(), String> {
    let lab = lab::resolve(lab_name).map_err(|e| e.to_string())?;
    let seed = seed.unwrap_or(lab.seed);
    let (report, _) = headless::run(&lab, seed, run_for).map_err(|e| e.to_string())?;
    print!("{}", report.render(format));
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Cmd::Run {
            lab,
            seed,
            run_for,
            format,
        }) => run(&lab, seed, run_for, format),
        // Until the dashboard exists, the default is a headless run of the
        // default lab.
        None => run(DEFAULT_LAB, None, None, Format::Table),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("lblab: {message}");
            ExitCode::FAILURE
        }
    }
}
