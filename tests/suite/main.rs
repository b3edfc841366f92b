//! The integration tests that run in simulated time or draw the dashboard:
//! one test binary, so `cargo test` links once and runs them all side by
//! side, instead of one binary (and one link) per file waited on in turn.
//! Tests that talk to real sockets in real time (`real`, `proxy`,
//! `backends`, `tls`, `dashboard_pty`) keep binaries of their own, so
//! simulated work on every core cannot make their timers late.

mod common;

mod algorithms_theory;
mod bad_labs;
mod check_real;
mod cli;
mod compare;
mod conservation;
mod determinism;
mod export;
mod hostile;
mod lab_fuzz;
mod labs;
mod pcap;
mod replay;
mod reports;
mod resilience;
mod scenarios;
mod scripts;
mod theory_report;
mod tui;
mod tui_compare;
mod tui_input;
mod tui_ladder;
mod tui_lesson;
mod tui_views;
mod value_fuzz;
