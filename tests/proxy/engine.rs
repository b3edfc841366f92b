//! The real proxy behind the engine boundary, as the dashboard drives it.

use crate::support::*;
use lblab::engine::{Engine, LogKind, ServerState};
use lblab::live::{LiveFrame, Speed};
use lblab::model::SimTime;
use lblab::proxy::engine::ProxyEngine;
use lblab::spec::{Algorithm, Command, FloodSpec, Origin, Timeout};
use lblab::tui::app::{Action, App};
use std::io::{Read, Write};
use std::time::Duration;

/// `GET /` with the standard library, for tests outside a runtime.
fn blocking_get(addr: std::net::SocketAddr) -> Option<String> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_answer(&raw)?.backend
}

fn engine_with_demo(n: usize) -> ProxyEngine {
    let ports: Vec<_> = (0..n).map(|_| closed_port()).collect();
    ProxyEngine::start(config(&ports), "test proxy", 2, true).expect("the proxy starts")
}

/// Advances the engine's bookkeeping for `d` of wall time.
fn run_for(e: &mut ProxyEngine, d: Duration) {
    let until = e.now() + lblab::model::SimDuration::from_nanos(d.as_nanos() as u64);
    while e.now() < until {
        e.advance(until, u64::MAX);
    }
}

fn logged(e: &ProxyEngine, needle: &str) -> bool {
    e.snapshot().log.iter().any(|l| l.text.contains(needle))
}

#[test]
fn killing_a_demo_backend_takes_it_out_and_reviving_brings_it_back() {
    let mut e = engine_with_demo(2);
    let at = e.local_addr();
    assert!(e.real_time());
    e.apply(Command::KillServer("web-1".into()), Origin::User);
    let rows = e.snapshot().servers;
    assert_eq!(rows[0].state, ServerState::Killed);
    for _ in 0..4 {
        assert_eq!(blocking_get(at).as_deref(), Some("web-2"));
    }
    run_for(&mut e, Duration::from_millis(400));
    assert!(logged(&e, "web-1 marked down"), "{:?}", e.snapshot().log);
    e.apply(Command::ReviveServer("web-1".into()), Origin::User);
    run_for(&mut e, Duration::from_millis(500));
    assert!(logged(&e, "web-1 marked up"), "{:?}", e.snapshot().log);
    assert_eq!(e.snapshot().servers[0].state, ServerState::Up);
    let names: Vec<_> = (0..4).filter_map(|_| blocking_get(at)).collect();
    assert!(names.iter().any(|n| n == "web-1"), "{names:?}");
}

#[test]
fn configuration_commands_reload_and_simulation_only_ones_say_so() {
    let mut e = engine_with_demo(2);
    e.apply(
        Command::SetAlgorithm(Algorithm::LeastConnections),
        Origin::User,
    );
    assert_eq!(e.snapshot().settings.algorithm, Algorithm::LeastConnections);
    e.apply(Command::DrainServer("web-2".into()), Origin::User);
    assert_eq!(e.snapshot().servers[1].state, ServerState::Draining);
    for _ in 0..3 {
        assert_eq!(blocking_get(e.local_addr()).as_deref(), Some("web-1"));
    }
    let snap = e.snapshot();
    assert_eq!(snap.latency.handshake.count, 3, "every connect is timed");
    assert!(snap.latency.handshake.p95.is_some());
    run_for(&mut e, Duration::from_millis(250));
    assert!(
        e.snapshot().servers[0].probe_p95.is_some(),
        "probes are timed"
    );
    e.apply(Command::StartFlood(FloodSpec::default()), Origin::User);
    e.apply(
        Command::SetTimeout(Timeout::Syn, lblab::spec::Dur::from_secs(1)),
        Origin::User,
    );
    let errors: Vec<_> = e
        .snapshot()
        .log
        .into_iter()
        .filter(|l| l.kind == LogKind::Error)
        .map(|l| l.text)
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("simulation only"), "{errors:?}");
    // A scheduled command waits for its time.
    let later = e.now() + lblab::model::SimDuration::from_millis(200);
    e.schedule(
        later,
        Command::SetAlgorithm(Algorithm::Random),
        Origin::Script,
    );
    assert_eq!(e.snapshot().settings.algorithm, Algorithm::LeastConnections);
    run_for(&mut e, Duration::from_millis(300));
    assert_eq!(e.snapshot().settings.algorithm, Algorithm::Random);
    assert!(e.now() > SimTime::ZERO);
}

#[test]
fn the_dashboard_refuses_simulation_only_keys_on_a_real_proxy() {
    let e = engine_with_demo(1);
    let lab = e.lab();
    let mut app = App::new(
        std::sync::Arc::new(LiveFrame::still(&e, &lab, Speed::Factor(1.0))),
        true,
    );
    for action in [
        Action::Flood,
        Action::TogglePause,
        Action::Faster,
        Action::Labs,
    ] {
        assert!(app.update(action).is_empty(), "{action:?} sent a control");
        assert!(app.notice.is_some(), "{action:?} left no notice");
        app.notice = None;
    }
    let drain = app.update(Action::DrainSelected);
    assert_eq!(drain.len(), 1, "drain is a real proxy's key too");
    let hints: Vec<_> = lblab::tui::keys::hints(false, true)
        .map(|(_, h)| h)
        .collect();
    let sim_hints: Vec<_> = lblab::tui::keys::hints(false, false)
        .map(|(_, h)| h)
        .collect();
    assert!(hints.len() < sim_hints.len(), "{hints:?}");
    assert!(hints.contains(&"drain"), "{hints:?}");
}

#[test]
fn the_real_proxy_screen_shows_its_own_columns_and_panel() {
    let e = engine_with_demo(2);
    for _ in 0..3 {
        assert!(blocking_get(e.local_addr()).is_some());
    }
    let lab = e.lab();
    let app = App::new(
        std::sync::Arc::new(LiveFrame::still(&e, &lab, Speed::Factor(1.0))),
        true,
    );
    let mut t =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).expect("terminal");
    t.draw(|f| lblab::tui::view::draw(f, &app)).expect("draw");
    let screen: String = t
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    for present in ["bytes/s", "conn p95", "errors", " connections ", "proxied"] {
        assert!(screen.contains(present), "{present:?} missing");
    }
    for absent in ["pkt/s", "half-open", "SYN-SENT", " flood "] {
        assert!(!screen.contains(absent), "{absent:?} shown on a real proxy");
    }
}
