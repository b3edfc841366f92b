//! The `lblab` command line: the dashboard by default, headless runs and
//! lab checks as subcommands.

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
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

/// Big blocks (a big World's clients, conn table and event lanes) are
/// mapped for transparent huge pages: see `lblab::alloc`.
#[global_allocator]
static ALLOCATOR: lblab::alloc::HugePageAlloc = lblab::alloc::HugePageAlloc;

/// A terminal laboratory for Layer-4 load balancing.
///
/// Without a command, opens the live dashboard on a lab (the classic one
/// unless --lab says otherwise). Press ? in the dashboard for its keys.
/// The options below are the dashboard's; --seed also serves `lblab run`
/// before or after its name, and any other given with a command is an
/// error.
#[derive(Parser, Debug)]
#[command(name = "lblab", version, about, long_about)]
struct Cli {
    /// Lab for the dashboard: a built-in name or the path of a .ron file.
    #[arg(long, value_name = "NAME|PATH", default_value = DEFAULT_LAB)]
    lab: String,
    /// Seed of the run, 0 to 18446744073709551615 (default: the lab's own
    /// seed).
    #[arg(long, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Starting speed: simulated seconds per wall second, 0.1 to 1000, or
    /// "max".
    #[arg(long, default_value = "1", value_parser = Speed::parse)]
    speed: Speed,
    /// Write a trace of keys, actions and commands to this file.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Keep the world running while a popup is open (by default a popup
    /// holds it still until it closes).
    #[arg(long)]
    popups_run: bool,
    /// Guided lesson: pause at each lesson step's moment and say what to
    /// press (g toggles it in the dashboard).
    #[arg(long)]
    guided: bool,
    /// Record the session's run file here (default: a new file in
    /// $XDG_DATA_HOME/lblab/runs, or ~/.local/share/lblab/runs).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Run a second world beside the first, with this command applied at
    /// t=0 (or a RON list of At(...) entries, or a commands file), both in
    /// lockstep: e.g. --compare 'SetAlgorithm(PowerOfTwoChoices)'.
    #[arg(long, value_name = "COMMAND|FILE")]
    compare: Option<String>,
    /// Run the lab on real loopback sockets (real servers and clients
    /// through lblab proxy), in real time.
    #[arg(long, conflicts_with = "compare")]
    real: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run a lab headless, as fast as the CPU allows, and print its report.
    Run(RunArgs),
    /// Run a lab twice with the same seed, once with each side's commands,
    /// and print one report with A, B and B−A columns.
    Compare(lblab::compare::cli::CompareArgs),
    /// Play a recorded run in the dashboard: its commands at their times;
    /// pause, step and speed work, and a key branches a new run.
    Replay(dashboard::ReplayArgs),
    /// List the built-in labs.
    Labs,
    /// Check lab files; exits non-zero if any has an error.
    Check {
        /// Lab files (or built-in names) to check.
        #[arg(required = true)]
        files: Vec<String>,
        /// Also refuse what cannot run on real sockets (run --real).
        #[arg(long)]
        real: bool,
    },
    /// Run a lab's exported balancer under HAProxy or nginx beside lblab
    /// proxy, on real loopback sockets, and compare them.
    Conform(lblab::conform::cli::ConformArgs),
    /// Run a real TCP load balancer on the lab's policies (config in .ron
    /// or the source design's config.json).
    Proxy(lblab::proxy::cli::ProxyArgs),
    /// Run demo backends on 127.0.0.1 for the proxy to balance over.
    Backends(lblab::backends::cli::BackendsArgs),
    /// Write a self-signed certificate and key for local TLS tests.
    Cert(lblab::proxy::tls::CertArgs),
    /// Write the lab's balancer as an HAProxy or nginx configuration.
    Export(lblab::export::cli::ExportArgs),
}

/// Exit status of `lblab run --strict` when an objective did not pass:
/// apart from 1 (an error) and 2 (a usage error).
const EXIT_OBJECTIVE_FAILED: u8 = 3;

fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim().parse().map_err(|_| {
        format!(
            "expected a whole number from 0 to {}, found \"{s}\"",
            u64::MAX
        )
    })
}

fn parse_picks(s: &str) -> Result<usize, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("expected a whole number of picks, like 20, found \"{s}\""))
}

fn parse_duration(s: &str) -> Result<SimDuration, String> {
    let d = spec::parse_duration(s).map_err(|e| e.to_string())?;
    if d == SimDuration::ZERO {
        return Err("the duration must be longer than zero".into());
    }
    Ok(d)
}

/// What `lblab run` was asked for.
#[derive(clap::Args, Debug)]
struct RunArgs {
    /// A built-in lab name or the path of a .ron lab file (none with
    /// --replay).
    #[arg(required_unless_present = "replay")]
    lab: Option<String>,
    /// Seed of the run, 0 to 18446744073709551615 (default: the lab's
    /// own seed).
    #[arg(long, value_parser = parse_seed)]
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
    #[arg(long, value_name = "N", value_parser = parse_picks)]
    explain: Option<usize>,
    /// Exit with status 3 when any objective fails (or cannot be
    /// judged), for scripts and CI; without it the exit status is 0
    /// whatever the verdicts.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    pcap: lblab::pcap::cli::PcapArgs,
    #[command(flatten)]
    runs: lblab::run_file::cli::RunFileArgs,
    #[command(flatten)]
    series: lblab::report::SeriesArgs,
    /// Run the lab on real loopback sockets: real servers and clients
    /// through lblab proxy, in real time.
    #[arg(long, conflicts_with_all = ["replay", "explain", "record"])]
    real: bool,
    /// Run the lab simulated and on real sockets with the same seed and
    /// print both side by side, flagging differences beyond tolerance.
    #[arg(long, conflicts_with_all = ["replay", "explain", "real", "commands", "record"])]
    vs_real: bool,
}

fn run(args: RunArgs) -> Result<ExitCode, String> {
    let RunArgs {
        lab: lab_name,
        seed,
        run_for,
        format,
        commands,
        explain,
        strict,
        pcap,
        runs,
        series,
        real,
        vs_real,
    } = args;
    let (lab, replayed) = runs.resolve(lab_name.as_deref(), seed)?;
    if real || vs_real {
        // What real sockets cannot do is refused before anything starts.
        if let Some(name) = &lab_name {
            lab::resolve_real(name)?;
        }
        if let Some(path) = &commands {
            lab::load_real_commands(path, &lab)?;
        }
    }
    if vs_real {
        let both = lblab::real::versus::run(&lab, seed.unwrap_or(lab.seed), run_for)?;
        out(&both.to_table())?;
        return Ok(ExitCode::SUCCESS);
    }
    let script = match &commands {
        Some(path) => lab::load_commands(path, &lab).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let seed = replayed
        .as_ref()
        .map_or(seed.unwrap_or(lab.seed), |c| c.run.seed);
    let capture = pcap.start()?;
    let keep_series = series.wanted();
    let build = move |lab: &lblab::spec::Lab, seed: u64| {
        let mut world = World::new(lab, seed);
        if keep_series {
            world.keep_series();
        }
        if let Some(n) = explain {
            world.explain_first(n);
        }
        world
    };
    if real && (capture.is_some() || keep_series) {
        return Err(
            "--real runs on the kernel's sockets: --pcap and --series need the simulation".into(),
        );
    }
    let maker = if real {
        lblab::real::RealLab::try_maker()
    } else {
        lblab::pcap::cli::maker(capture.as_ref(), build)
    };
    let (mut report, engine) = match &replayed {
        Some(c) => headless::replay(maker, &lab, &c.run, run_for),
        None => headless::run(maker, &lab, seed, run_for, &script),
    }
    .map_err(|e| e.to_string())?;
    runs.record(&lab, seed, run_for, &script, replayed.as_ref())?;
    pcap.finish(capture)?;
    series.write(engine.as_ref())?;
    report.describe_lab(&lab);
    out(&report.render(format))?;
    let missed = report.objectives_missed();
    if !strict || missed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    // The report on stdout says it all; stderr names what failed so a CI
    // log shows why the step went red without parsing the report.
    let names: Vec<String> = missed
        .iter()
        .map(|o| format!("{} ({})", lblab::text::escape(&o.name), o.verdict))
        .collect();
    eprintln!(
        "lblab: {} of {} {} did not pass: {}",
        missed.len(),
        report.objectives.len(),
        plural(report.objectives.len(), "objective", "objectives"),
        names.join(", ")
    );
    Ok(ExitCode::from(EXIT_OBJECTIVE_FAILED))
}

/// Writes `text` to standard output. A reader that has gone away
/// (`lblab labs | head -2`) ends the output quietly, as with any Unix
/// filter, where `print!` would panic.
fn out(text: &str) -> Result<(), String> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write to standard output: {e}"))
        }
        _ => Ok(()),
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn labs() -> Result<(), String> {
    for (name, summary) in lab::builtin_summaries() {
        out(&format!("{name:<16} {summary}\n"))?;
    }
    Ok(())
}

fn check(files: &[String], real: bool) -> Result<(), String> {
    let mut failed = 0;
    let make = World::maker();
    for f in files {
        // What `run` would refuse of a lab that loads, `check` refuses too,
        // with the same words.
        let resolved = if real {
            lab::resolve_real(f)
        } else {
            lab::resolve(f).map_err(|e| e.to_string())
        };
        let checked = resolved.and_then(|l| match headless::check_runnable(&make, &l) {
            Ok(_) => Ok(l),
            Err(e) => Err(format!("{}: {e}", lblab::text::escape(f))),
        });
        match checked {
            // A name can hold anything a file can; the terminal gets it
            // escaped, never raw.
            Ok(l) => out(&format!(
                "{}: ok ({}): {}\n",
                lblab::text::escape(f),
                lblab::text::escape(&l.name),
                lab::estimate::estimate(&l).describe()
            ))?,
            Err(e) => {
                eprintln!("{e}");
                failed += 1;
            }
        }
    }
    match (failed, files.len()) {
        (0, _) => Ok(()),
        (_, 1) => Err("the lab file has an error".into()),
        (1, all) => Err(format!("1 of {all} lab files has an error")),
        (n, all) => Err(format!("{n} of {all} lab files have errors")),
    }
}

fn dashboard(cli: &Cli) -> Result<(), String> {
    let lab = if cli.real {
        lab::resolve_real(&cli.lab)?
    } else {
        lab::resolve(&cli.lab).map_err(|e| e.to_string())?
    };
    let guard = cli
        .log
        .as_ref()
        .map(|path| lblab::logging::to_file(path, tracing::Level::DEBUG))
        .transpose()?;
    tracing::info!(lab = %lab.name, seed = cli.seed.unwrap_or(lab.seed), "dashboard starts");
    let make = match &cli.compare {
        Some(text) => {
            lblab::compare::twin::Twin::maker(lblab::compare::Side::parse("compare", text, &lab)?)
        }
        None if cli.real => lblab::real::RealLab::try_maker(),
        None => World::maker(),
    };
    let options = Options {
        make,
        seed: cli.seed.unwrap_or(lab.seed),
        lab,
        speed: cli.speed,
        monochrome: dashboard::no_color_requested(),
        popups_pause: !cli.popups_run,
        guided: cli.guided,
    };
    let setup = lblab::live::RunSetup {
        record_to: lblab::run_file::cli::record_path(
            cli.record.clone(),
            &options.lab.name,
            options.seed,
        ),
        replay: None,
    };
    let result = dashboard::run_with(options, setup);
    drop(guard);
    if let Some(path) = &cli.log {
        eprintln!("lblab: log written to {}", path.display());
    }
    result
}

/// Given on the command line, not left at its default.
fn given(matches: &ArgMatches, id: &str) -> bool {
    matches.value_source(id) == Some(ValueSource::CommandLine)
}

/// Checks the dashboard's options given before a command: --seed merges
/// into `run`'s own, and the rest mean nothing there, so they are refused
/// rather than ignored.
fn merge_global_flags(cli: &Cli, matches: &ArgMatches) -> Result<Option<u64>, String> {
    let Some(command) = matches.subcommand_name() else {
        return Ok(cli.seed);
    };
    // Every top-level option but --seed is the dashboard's alone, those
    // added later included.
    let top = Cli::command();
    for arg in top.get_arguments() {
        let id = arg.get_id().as_str();
        if id != "seed" && given(matches, id) {
            let flag = arg.get_long().unwrap_or(id);
            let hint = match (flag, command) {
                ("lab", "run") => " (name the lab after it: lblab run LAB)",
                ("log", "proxy") => " (give proxy's own --log after its name)",
                _ => "",
            };
            return Err(format!(
                "--{flag} is an option of the dashboard, not of `lblab {command}`{hint}"
            ));
        }
    }
    match (&cli.command, cli.seed) {
        (_, None) => Ok(None),
        (
            Some(Cmd::Run(RunArgs {
                seed: Some(after), ..
            })),
            Some(before),
        ) if *after != before => Err(format!(
            "--seed is given twice, {before} before `run` and {after} after it; give it once"
        )),
        (Some(Cmd::Run(_)), Some(before)) => Ok(Some(before)),
        (_, Some(_)) => Err(format!(
            "--seed is an option of the dashboard and of `lblab run`, not of `lblab {command}`"
        )),
    }
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let global_seed = match merge_global_flags(&cli, &matches) {
        Ok(seed) => seed,
        // A usage error, worded and numbered (exit 2) as clap's own are.
        Err(message) => Cli::command()
            .error(ErrorKind::ArgumentConflict, message)
            .exit(),
    };
    let result = match cli.command.take() {
        // The real engine's commands own their exit codes and messages.
        Some(Cmd::Proxy(args)) => return lblab::proxy::cli::run_cli(args),
        Some(Cmd::Backends(args)) => return lblab::backends::cli::run_cli(args),
        Some(Cmd::Cert(args)) => return lblab::proxy::tls::run_cli(args),
        Some(Cmd::Export(args)) => return lblab::export::cli::run_cli(args),
        Some(Cmd::Conform(args)) => return lblab::conform::cli::run_cli(args),
        Some(Cmd::Run(args)) => run(RunArgs {
            seed: args.seed.or(global_seed),
            ..args
        }),
        Some(Cmd::Compare(args)) => return lblab::compare::cli::run_cli(args),
        Some(Cmd::Replay(args)) => {
            dashboard::replay(args, World::maker()).map(|()| ExitCode::SUCCESS)
        }
        Some(Cmd::Labs) => labs().map(|()| ExitCode::SUCCESS),
        Some(Cmd::Check { files, real }) => check(&files, real).map(|()| ExitCode::SUCCESS),
        None => dashboard(&cli).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("lblab: {message}");
            ExitCode::FAILURE
        }
    }
}
