//! `lblab export`: every built-in lab's balancer as an HAProxy and an
//! nginx configuration that the real daemons accept (`haproxy -c`,
//! `nginx -t`; skipped with a printed reason where a daemon is absent),
//! with the lab's algorithm, weights, checks and defences in the engine's
//! own words and what it cannot say listed at the top.

use lblab::export::{Engine, Exported, export};
use lblab::lab::{BUILTIN, builtin};
use std::path::PathBuf;
use std::process::Command;

fn exported(lab: &str, engine: Engine) -> Exported {
    export(&builtin(lab).expect("built-in lab loads"), engine)
}

/// The path of a program on PATH (or in the sbin directories daemons live
/// in), if installed.
fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lblab-export-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

#[test]
fn every_built_in_lab_passes_haproxy_c() {
    let Some(haproxy) = program("haproxy") else {
        println!("skipped: haproxy is not installed (CI installs it)");
        return;
    };
    let dir = scratch("haproxy");
    for (name, _) in BUILTIN {
        let file = dir.join(format!("{name}.cfg"));
        std::fs::write(&file, exported(name, Engine::Haproxy).text).expect("written");
        let out = Command::new(&haproxy)
            .arg("-c")
            .arg("-f")
            .arg(&file)
            .output()
            .expect("haproxy runs");
        assert!(
            out.status.success(),
            "{name}: haproxy -c refused it:\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&file).unwrap_or_default()
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_built_in_lab_passes_nginx_t() {
    let Some(nginx) = program("nginx") else {
        println!("skipped: nginx is not installed (CI installs it)");
        return;
    };
    let dir = scratch("nginx");
    let load = lblab::conform::install::stream_module(&nginx)
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|m| format!("load_module {};\n", m.display()))
        .unwrap_or_default();
    for (name, _) in BUILTIN {
        let stream = dir.join(format!("{name}.conf"));
        // nginx -t binds what it listens on: the lab's VIP is not this
        // machine's, so the check listens on a free loopback port instead.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let vip = format!("listen {};", lblab::sim::VIP);
        let text = exported(name, Engine::Nginx).text;
        assert!(text.contains(&vip), "{name}: {text}");
        let text = text.replace(&vip, &format!("listen 127.0.0.1:{port};"));
        std::fs::write(&stream, text).expect("written");
        let main = dir.join("nginx.conf");
        std::fs::write(
            &main,
            format!(
                "{load}pid {};\nevents {{}}\ninclude {};\n",
                dir.join("nginx.pid").display(),
                stream.display()
            ),
        )
        .expect("written");
        let out = Command::new(&nginx)
            .arg("-t")
            .arg("-q")
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg("stderr")
            .arg("-c")
            .arg(&main)
            .output()
            .expect("nginx runs");
        assert!(
            out.status.success(),
            "{name}: nginx -t refused it:\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&stream).unwrap_or_default()
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_algorithm_and_weights_are_the_engines_own() {
    let rr = exported("round-robin", Engine::Haproxy).text;
    assert!(rr.contains("balance roundrobin"), "{rr}");
    assert_eq!(rr.matches("    server srv-").count(), 4, "{rr}");
    let uneven = builtin("uneven-servers").expect("loads");
    let h = export(&uneven, Engine::Haproxy).text;
    let n = export(&uneven, Engine::Nginx).text;
    // The lab's weighted algorithms keep its weights; the rest export 1.
    let weighted = uneven.balancer.algorithm.honours_weights();
    for s in uneven.servers.expand() {
        let w = if weighted { s.weight } else { 1 };
        assert!(
            h.contains(&format!("weight {w} ")),
            "{}: weight {w}\n{h}",
            s.name
        );
        assert!(
            n.contains(&format!("weight={w};")),
            "{}: weight={w}\n{n}",
            s.name
        );
    }
    let p2c = exported("slow-server", Engine::Nginx).text;
    let alg = builtin("slow-server").expect("loads").balancer.algorithm;
    if alg == lblab::spec::Algorithm::PowerOfTwoChoices {
        assert!(p2c.contains("random two least_conn;"), "{p2c}");
    }
}

#[test]
fn health_checks_defences_and_limits_are_exported_or_listed() {
    let dies = builtin("server-dies").expect("loads");
    let h = export(&dies, Engine::Haproxy).text;
    let hc = &dies.balancer.health;
    assert!(
        h.contains(&format!(
            "check inter {} rise {} fall {}",
            lblab::export::time(hc.interval.get()),
            hc.rise.get(),
            hc.fall.get()
        )),
        "{h}"
    );
    let n = export(&dies, Engine::Nginx);
    assert!(
        n.unsupported
            .iter()
            .any(|u| u.contains("active health checks")),
        "nginx's missing active checks are listed: {:?}",
        n.unsupported
    );
    let allow = exported("allow-list", Engine::Haproxy).text;
    let allow_lab = builtin("allow-list").expect("loads");
    if !allow_lab.balancer.defences.filter.allow.is_empty() {
        assert!(
            allow.contains("tcp-request connection reject unless allowed"),
            "{allow}"
        );
    }
    let cookies = export(
        &lblab::lab::load_str(
            r#"(name: "cookies", balancer: (defences: (syn_cookies: Always)))"#,
            "cookies.ron",
        )
        .expect("the lab loads"),
        Engine::Haproxy,
    );
    assert!(
        cookies.text.contains("#  - SYN cookies"),
        "SYN cookies are listed at the top:\n{}",
        cookies.text
    );
}

#[test]
fn export_on_the_command_line_writes_the_file_and_lists_the_gaps() {
    let dir = scratch("cli");
    let file = dir.join("haproxy.cfg");
    let out = Command::new(env!("CARGO_BIN_EXE_lblab"))
        .args(["export", "syn-cookies", "--to", "haproxy", "-o"])
        .arg(&file)
        .output()
        .expect("lblab runs");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HAProxy cannot express"), "{err}");
    assert!(err.contains("half-open limit"), "{err}");
    let text = std::fs::read_to_string(&file).expect("the file was written");
    assert!(text.contains("backend servers"));
    let bad = Command::new(env!("CARGO_BIN_EXE_lblab"))
        .args(["export", "round-robin", "--to", "envoy"])
        .output()
        .expect("lblab runs");
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("haproxy") && err.contains("nginx"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
