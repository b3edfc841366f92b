//! `lblab export LAB --to haproxy|nginx [-o FILE]`: the lab's balancer as
//! the engine's configuration, on standard output or in a file; what the
//! engine cannot express is listed on standard error too.

use super::{Engine, export};
use crate::lab;
use std::path::PathBuf;
use std::process::ExitCode;

/// The arguments of `lblab export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// A built-in lab name or the path of a .ron lab file.
    lab: String,
    /// The engine to write a configuration for.
    #[arg(long, value_enum)]
    to: Engine,
    /// Write the configuration here instead of to standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `lblab export`: 0 when written, 1 when the lab or the file fails.
pub fn run_cli(args: ExportArgs) -> ExitCode {
    let lab = match lab::resolve(&args.lab) {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let exported = export(&lab, args.to);
    if !exported.unsupported.is_empty() {
        eprintln!(
            "lblab: {} cannot express {} of this lab's balancer (listed at the top of the file):",
            args.to,
            exported.unsupported.len()
        );
        for u in &exported.unsupported {
            eprintln!("  - {u}");
        }
    }
    match &args.output {
        Some(path) => match std::fs::write(path, &exported.text) {
            Ok(()) => {
                eprintln!("lblab: wrote {}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("lblab: cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
        None => {
            use std::io::Write;
            // A reader that goes away (| head) ends the output quietly.
            let _ = std::io::stdout().write_all(exported.text.as_bytes());
            ExitCode::SUCCESS
        }
    }
}
