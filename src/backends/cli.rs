//! `lblab backends`: a pool of demo backends on numbered ports, toggled
//! from the keyboard, until Ctrl-C or SIGTERM.

use super::console::{self, Input};
use super::signal::Shutdown;
use super::{BackendOptions, DemoBackend, Mode, spawn_many_on};
use crate::spec::parse_duration;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::mpsc;

/// The most backends one command starts.
pub const MAX_BACKENDS: usize = 64;

/// Start demo backends to put behind the proxy: web-1 on --port, web-2 on
/// the next port, and so on.
#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct BackendsArgs {
    /// How many backends to start, 1 to 64.
    #[arg(value_parser = parse_count)]
    pub count: usize,
    /// Port of web-1; the others take the ports after it (0: each gets a
    /// free port).
    #[arg(long, value_name = "P", default_value_t = 9001, value_parser = parse_port)]
    pub port: u16,
    /// Sleep before each answer, like 50ms or 1s.
    #[arg(long, value_name = "DURATION", value_parser = parse_delay, default_value = "0s")]
    pub delay: Duration,
    /// Fraction of requests, 0 to 1, answered 500 (never /health).
    #[arg(long, value_name = "F", value_parser = parse_fail_rate, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Echo bytes back instead of answering HTTP.
    #[arg(long)]
    pub echo: bool,
    /// Address to listen on.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub bind: IpAddr,
}

impl BackendsArgs {
    /// The options every backend of the pool gets.
    pub fn options(&self) -> BackendOptions {
        BackendOptions {
            mode: if self.echo { Mode::Echo } else { Mode::Http },
            delay: self.delay,
            fail_rate: self.fail_rate,
        }
    }
}

fn parse_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_BACKENDS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a number of backends from 1 to {MAX_BACKENDS}, found \"{text}\""
        )),
    }
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.trim()
        .parse::<u16>()
        .map_err(|_| format!("expected a port from 0 to 65535, found \"{text}\""))
}

fn parse_delay(text: &str) -> Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(text)
        .map(|d| Duration::from_nanos(d.as_nanos()))
        .map_err(|e| e.to_string())
}

fn parse_fail_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!(
            "expected a fraction from 0 to 1 (like 0.1), found \"{text}\""
        )),
    }
}

/// Runs `lblab backends`: starts the pool, prints where each listens, and
/// serves until Ctrl-C, SIGTERM or `q`. Exit code 1 when a backend cannot
/// start (a port in use above all).
pub fn run_cli(args: BackendsArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(args));
    // Killed connections end at once; the bound only guards an exit
    // against a task that never yields.
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

async fn run(args: BackendsArgs) -> ExitCode {
    // Handlers first: a Ctrl-C right after the "listening" lines must
    // close the pool cleanly, not kill the process.
    let mut shutdown = match Shutdown::install() {
        Ok(shutdown) => shutdown,
        Err(e) => {
            eprintln!("error: cannot install the Ctrl-C handler: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = args.options();
    let backends = match spawn_many_on(args.bind, args.count, args.port, options).await {
        Ok(backends) => backends,
        Err(e) => {
            eprintln!("error: {e}");
            if e.kind() == std::io::ErrorKind::AddrInUse {
                eprintln!("hint: another program holds that port; choose others with --port");
            }
            return ExitCode::FAILURE;
        }
    };
    for backend in &backends {
        let (name, addr) = (backend.name(), backend.addr());
        println!("{name} listening on {addr} ({})", options.mode);
    }
    let lines = console::stdin_lines();
    if lines.is_some() {
        println!("{}", console::help(backends.len()));
    }
    serve_until_stopped(&backends, lines, &mut shutdown).await;
    for backend in &backends {
        backend.kill();
    }
    ExitCode::SUCCESS
}

/// Follows console commands until `q` or a signal; once the console closes
/// (Ctrl-D), only a signal ends the run.
async fn serve_until_stopped(
    backends: &[DemoBackend],
    mut lines: Option<mpsc::Receiver<String>>,
    shutdown: &mut Shutdown,
) {
    loop {
        let line = tokio::select! {
            () = shutdown.recv() => return,
            line = next_line(&mut lines) => line,
        };
        let Some(line) = line else {
            lines = None;
            println!("console closed; serving until Ctrl-C");
            continue;
        };
        match Input::parse(&line, backends.len()) {
            Input::Toggle(i) => console::toggle(&backends[i]).await,
            Input::Quit => return,
            Input::Blank => {}
            Input::Unknown => eprintln!("{}", console::help(backends.len())),
        }
    }
}

async fn next_line(lines: &mut Option<mpsc::Receiver<String>>) -> Option<String> {
    match lines {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: BackendsArgs,
    }

    fn parse(args: &[&str]) -> Result<BackendsArgs, String> {
        let argv = std::iter::once("backends").chain(args.iter().copied());
        Cli::try_parse_from(argv)
            .map(|cli| cli.args)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_http_on_9001_of_localhost() {
        let args = parse(&["3"]).unwrap();
        assert_eq!(args.count, 3);
        assert_eq!(args.port, 9001);
        assert_eq!(args.bind.to_string(), "127.0.0.1");
        assert_eq!(args.options(), BackendOptions::default());
    }

    #[test]
    fn every_option_reaches_the_backends() {
        let args = parse(&[
            "2",
            "--port",
            "0",
            "--delay",
            "50ms",
            "--fail-rate",
            "0.25",
            "--echo",
            "--bind",
            "::1",
        ])
        .unwrap();
        assert_eq!(args.port, 0);
        assert_eq!(args.bind.to_string(), "::1");
        let options = args.options();
        assert_eq!(options.mode, Mode::Echo);
        assert_eq!(options.delay, Duration::from_millis(50));
        assert_eq!(options.fail_rate, 0.25);
        assert_eq!(
            parse(&["1", "--delay", "1s"]).unwrap().delay,
            Duration::from_secs(1)
        );
        assert_eq!(parse(&["1", "--delay", "0"]).unwrap().delay, Duration::ZERO);
    }

    #[test]
    fn a_count_outside_1_to_64_is_refused_clearly() {
        for bad in ["0", "65", "many"] {
            let err = parse(&[bad]).unwrap_err();
            assert!(err.contains("from 1 to 64"), "{bad}: {err}");
        }
        assert_eq!(parse(&["64"]).unwrap().count, 64);
    }

    #[test]
    fn bad_rates_and_delays_are_refused() {
        for bad in ["1.5", "-0.1", "NaN", "half"] {
            let flag = format!("--fail-rate={bad}");
            let err = parse(&["1", &flag]).unwrap_err();
            assert!(err.contains("fraction from 0 to 1"), "{bad}: {err}");
        }
        assert!(parse(&["1", "--delay", "50"]).is_err());
        assert!(parse(&["1", "--delay", "fast"]).is_err());
        assert!(parse(&["1", "--port", "70000"]).is_err());
    }
}
