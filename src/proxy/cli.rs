//! `lblab proxy --config FILE`: load, start, then wait for signals.
//! SIGHUP reloads the file (a bad one is refused and the old configuration
//! kept); SIGTERM or SIGINT drains and exits 0; a second one during the
//! drain closes at once.

use super::config::load_file;
use super::server::Proxy;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::signal::unix::{SignalKind, signal};

/// The options of `lblab proxy`.
#[derive(clap::Args, Debug)]
pub struct ProxyArgs {
    /// The configuration: lblab's own (.ron) or the source design's
    /// config.json (.json).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=512))]
    pub threads: Option<u16>,
    /// Write the log to this file instead of standard error.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// The least severe log level written.
    #[arg(long, value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,
    /// Check the configuration, print what it says, and exit.
    #[arg(long)]
    pub check: bool,
}

/// Log levels, from the fewest lines to the most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevel {
    /// Failures only.
    Error,
    /// Failures, backends going down, failed connects.
    Warn,
    /// Also refusals, backends coming up, reloads.
    Info,
    /// Also every proxied connection.
    Debug,
}

impl From<LogLevel> for tracing::Level {
    fn from(l: LogLevel) -> tracing::Level {
        match l {
            LogLevel::Error => tracing::Level::ERROR,
            LogLevel::Warn => tracing::Level::WARN,
            LogLevel::Info => tracing::Level::INFO,
            LogLevel::Debug => tracing::Level::DEBUG,
        }
    }
}

/// Runs `lblab proxy`; the exit code says how it ended.
pub fn run_cli(args: ProxyArgs) -> ExitCode {
    let config = match load_file(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if args.check {
        println!(
            "{}: ok: listen {}, {} backends, {}",
            args.config.display(),
            config.listen,
            config.backends.len(),
            config.algorithm
        );
        return ExitCode::SUCCESS;
    }
    let _guard = match start_log(&args) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("lblab proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        runtime.worker_threads(usize::from(n));
    }
    let runtime = match runtime.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lblab proxy: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lblab proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ProxyArgs, config: super::config::ProxyConfig) -> Result<(), String> {
    let drain = config.drain_timeout;
    let mut hangup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let proxy = Proxy::start(config).await.map_err(|e| e.to_string())?;
    // Scripts and tests wait for this line to know the port.
    println!("lblab proxy listening on {}", proxy.local_addr());
    let _ = std::io::stdout().flush();
    loop {
        tokio::select! {
            _ = hangup.recv() => reload(&proxy, &args),
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    tokio::select! {
        report = proxy.shutdown(drain) => {
            if report.cut > 0 {
                eprintln!("lblab proxy: {} connections cut after the drain timeout", report.cut);
            }
            Ok(())
        }
        _ = terminate.recv() => Err("second signal: closed without draining".into()),
        _ = interrupt.recv() => Err("second signal: closed without draining".into()),
    }
}

/// Re-reads the configuration file; a bad one leaves the running one.
fn reload(proxy: &Proxy, args: &ProxyArgs) {
    match load_file(&args.config) {
        Ok(config) => {
            if let Err(e) = proxy.reload(config) {
                tracing::error!(error = %e, "reload refused; the running configuration stays");
            }
        }
        Err(e) => tracing::error!(error = %e, "reload refused; the running configuration stays"),
    }
}

/// Logs to the file asked for, or to standard error.
fn start_log(
    args: &ProxyArgs,
) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>, String> {
    let level = tracing::Level::from(args.log_level);
    match &args.log {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| format!("cannot create log file {}: {e}", path.display()))?;
            let (writer, guard) = tracing_appender::non_blocking(file);
            tracing_subscriber::fmt()
                .with_writer(writer)
                .with_ansi(false)
                .with_max_level(level)
                .try_init()
                .map_err(|e| format!("cannot start logging: {e}"))?;
            Ok(Some(guard))
        }
        None => {
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_max_level(level)
                .try_init()
                .map_err(|e| format!("cannot start logging: {e}"))?;
            Ok(None)
        }
    }
}
