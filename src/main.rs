//! The `lblab` command line: the dashboard by default, headless runs and
//! lab checks as subcommands.

use clap::{Parser, Subcommand};
use lblab::headless;
use lblab::lab::{self, DEFAULT_LAB};
use lblab::live::Speed;
use lblab::model::SimDuration;
use lblab::report::Format;
use lblab::sim::World;
use lblab::spec;
use lblab::tui::run::{self as dashboard, Options};
use std::path::PathBuf;
use std::process::ExitCode;

/// A terminal laboratory for Layer-4 load balancing.
///
/// Without a command, opens the live dashboard on a lab (the classic one
/// unless --lab says otherwise). Press ? in the dashboard for its keys.
#[derive(Parser, Debug)]
#[command(name = "lblab", version, about, long_about)]
struct Cli {
    /// Lab for the dashboard: a built-in name or the path of a .ron file.
    #[arg(long, value_name = "NAME|PATH", default_value = DEFAULT_LAB)]
    lab: String,
    /// Seed for the dashboard's run (default: the lab's own seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Starting speed: simulated seconds per wall second, 0.1 to 1000, or
    /// "max".
    #[arg(long, default_value = "1", value_parser = Speed::parse)]
    speed: Speed,
    /// Write a trace of keys, actions and commands to this file.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
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
        /// A RON list of timed commands to apply, like
        /// [At("10s", KillServer("srv-1"))].
        #[arg(long, value_name = "FILE")]
        commands: Option<PathBuf>,
        /// Print the first N picks and why each backend was chosen.
        #[arg(long, value_name = "N")]
        explain: Option<usize>,
    },
    /// List the built-in labs.
    Labs,
    /// Check lab files; exits non-zero if any has an error.
    Check {
        /// Lab files (or built-in names) to check.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Run a real TCP load balancer on the lab's policies (config in .ron
    /// or the source design's config.json).
    Proxy(lblab::proxy::cli::ProxyArgs),
    /// Run demo backends on 127.0.0.1 for the proxy to balance over.
    Backends(lblab::backends::cli::BackendsArgs),
    /// Write a self-signed certificate and key for local TLS tests.
    Cert(lblab::proxy::tls::CertArgs),
}

fn parse_duration(s: &str) -> Result<SimDuration, String> {
    let d = spec::parse_duration(s).map_err(|e| e.to_string())?;
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
    commands: Option<&PathBuf>,
    explain: Option<usize>,
) -> Result<(), String> {
    let lab = lab::resolve(lab_name).map_err(|e| e.to_string())?;
    let script = match commands {
        Some(path) => lab::load_commands(path, &lab).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let seed = seed.unwrap_or(lab.seed);
    let maker: lblab::engine::MakeEngine = match explain {
        Some(n) => std::sync::Arc::new(move |lab: &lblab::spec::Lab, seed: u64| {
            let mut world = World::new(lab, seed);
            world.explain_first(n);
            Box::new(world) as Box<dyn lblab::engine::Engine>
        }),
        None => World::maker(),
    };
    let (report, _) =
        headless::run(maker, &lab, seed, run_for, &script).map_err(|e| e.to_string())?;
    print!("{}", report.render(format));
    Ok(())
}

fn labs() -> Result<(), String> {
    for (name, summary) in lab::builtin_summaries() {
        println!("{name:<16} {summary}");
    }
    Ok(())
}

fn check(files: &[String]) -> Result<(), String> {
    let mut failed = 0;
    for f in files {
        match lab::resolve(f) {
            // A name can hold anything a file can; the terminal gets it
            // escaped, never raw.
            Ok(l) => println!(
                "{}: ok ({}): {}",
                lblab::text::escape(f),
                lblab::text::escape(&l.name),
                lab::estimate::estimate(&l).describe()
            ),
            Err(e) => {
                eprintln!("{e}");
                failed += 1;
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(format!("{n} of {} lab files have errors", files.len())),
    }
}

fn dashboard(cli: &Cli) -> Result<(), String> {
    let lab = lab::resolve(&cli.lab).map_err(|e| e.to_string())?;
    let guard = cli
        .log
        .as_ref()
        .map(|path| lblab::logging::to_file(path, tracing::Level::DEBUG))
        .transpose()?;
    tracing::info!(lab = %lab.name, seed = cli.seed.unwrap_or(lab.seed), "dashboard starts");
    let options = Options {
        make: World::maker(),
        seed: cli.seed.unwrap_or(lab.seed),
        lab,
        speed: cli.speed,
        monochrome: dashboard::no_color_requested(),
    };
    let result = dashboard::run(options);
    drop(guard);
    if let Some(path) = &cli.log {
        eprintln!("lblab: log written to {}", path.display());
    }
    result
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    let result = match cli.command.take() {
        // The real engine's commands own their exit codes and messages.
        Some(Cmd::Proxy(args)) => return lblab::proxy::cli::run_cli(args),
        Some(Cmd::Backends(args)) => return lblab::backends::cli::run_cli(args),
        Some(Cmd::Cert(args)) => return lblab::proxy::tls::run_cli(args),
        Some(Cmd::Run {
            lab,
            seed,
            run_for,
            format,
            commands,
            explain,
        }) => run(&lab, seed, run_for, format, commands.as_ref(), explain),
        Some(Cmd::Labs) => labs(),
        Some(Cmd::Check { files }) => check(&files),
        None => dashboard(&cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("lblab: {message}");
            ExitCode::FAILURE
        }
    }
}
