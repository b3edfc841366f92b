//! Unit tests of certificate reading, checking and writing. None does I/O
//! that can block for long (local files only), so none needs a timeout.

use super::*;
use std::fs;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh directory under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "lblab-tls-unit-{tag}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&path).expect("create scratch dir");
        Self(path)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, text).expect("write scratch file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn pair(dir: &Scratch, prefix: &str) -> TlsFiles {
    let (cert, key) = self_signed(&names(&["localhost"])).expect("generate");
    TlsFiles {
        cert: dir.file(&format!("{prefix}.crt"), &cert),
        key: dir.file(&format!("{prefix}.key"), &key),
    }
}

fn err_of(files: &TlsFiles) -> TlsError {
    match acceptor(files) {
        Ok(_) => panic!("{files:?} was accepted"),
        Err(e) => e,
    }
}

#[test]
fn a_generated_pair_makes_an_acceptor() {
    let dir = Scratch::new("good");
    assert!(acceptor(&pair(&dir, "a")).is_ok());
}

#[test]
fn a_missing_cert_file_is_named() {
    let dir = Scratch::new("missing");
    let mut files = pair(&dir, "a");
    files.cert = dir.0.join("nope.crt");
    let e = err_of(&files);
    assert!(matches!(e, TlsError::ReadCert { ref path, .. } if *path == files.cert));
    let text = e.to_string();
    assert!(text.starts_with("cannot read cert file "), "{text}");
    assert!(text.contains("nope.crt"), "{text}");
}

#[test]
fn a_missing_key_file_is_named() {
    let dir = Scratch::new("missing-key");
    let mut files = pair(&dir, "a");
    files.key = dir.0.join("nope.key");
    let e = err_of(&files);
    assert!(matches!(e, TlsError::ReadKey { ref path, .. } if *path == files.key));
    assert!(e.to_string().contains("nope.key"), "{e}");
}

#[test]
fn text_without_pem_holds_no_certificate() {
    let dir = Scratch::new("text");
    let mut files = pair(&dir, "a");
    files.cert = dir.file("junk.crt", "this is not a certificate\n");
    let e = err_of(&files);
    assert!(matches!(e, TlsError::NoCertificate { ref path } if *path == files.cert));
    assert!(
        e.to_string().ends_with("junk.crt holds no certificate"),
        "{e}"
    );
}

#[test]
fn a_truncated_pem_section_is_bad_pem() {
    let dir = Scratch::new("truncated");
    let mut files = pair(&dir, "a");
    let whole = fs::read_to_string(&files.cert).expect("read cert");
    let cut = whole.lines().take(3).collect::<Vec<_>>().join("\n");
    files.cert = dir.file("cut.crt", &cut);
    let e = err_of(&files);
    assert!(matches!(e, TlsError::BadPem { ref path, .. } if *path == files.cert));
    assert!(e.to_string().contains("cut.crt is not valid PEM"), "{e}");
}

#[test]
fn a_certificate_given_as_the_key_holds_no_private_key() {
    let dir = Scratch::new("nokey");
    let mut files = pair(&dir, "a");
    files.key = files.cert.clone();
    let e = err_of(&files);
    assert!(matches!(e, TlsError::NoPrivateKey { ref path } if *path == files.key));
    assert!(e.to_string().ends_with("a.crt holds no private key"), "{e}");
}

#[test]
fn a_key_from_another_pair_is_refused() {
    let dir = Scratch::new("mismatch");
    let a = pair(&dir, "a");
    let b = pair(&dir, "b");
    let files = TlsFiles {
        cert: a.cert,
        key: b.key,
    };
    let e = err_of(&files);
    assert!(matches!(e, TlsError::KeyMismatch { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("b.key") && text.contains("a.crt"), "{text}");
}

#[test]
fn a_client_cannot_trust_a_key_file() {
    let dir = Scratch::new("trust-key");
    let files = pair(&dir, "a");
    assert!(client_config_trusting(&files.cert).is_ok());
    match client_config_trusting(&files.key) {
        Err(TlsError::NoCertificate { path }) => assert_eq!(path, files.key),
        other => panic!("{other:?}"),
    }
}

#[test]
fn names_are_checked() {
    assert!(matches!(self_signed(&[]), Err(TlsError::NoNames)));
    match self_signed(&names(&["localhost", "my host"])) {
        Err(TlsError::BadName { name }) => assert_eq!(name, "my host"),
        other => panic!("{other:?}"),
    }
    let ok = names(&["*.lab.test", "::1", "10.0.0.1", "lb-1.lab.test"]);
    let (cert, key) = self_signed(&ok).expect("generate");
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"), "{cert}");
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "{key}");
}

#[test]
fn files_are_not_overwritten_without_force() {
    let dir = Scratch::new("force");
    let out = dir.0.join("certs");
    let (cert, key) = write_self_signed(&out, &names(&["localhost"]), false).expect("first");
    assert_eq!(
        (cert.clone(), key.clone()),
        (out.join(CERT_FILE), out.join(KEY_FILE))
    );
    let before = fs::read(&cert).expect("read cert");

    match write_self_signed(&out, &names(&["localhost"]), false) {
        Err(TlsError::Exists { path }) => assert_eq!(path, cert),
        other => panic!("{other:?}"),
    }
    assert_eq!(fs::read(&cert).expect("read cert"), before);

    // A lone key blocks a new pair too, and nothing is written.
    fs::remove_file(&cert).expect("remove cert");
    match write_self_signed(&out, &names(&["localhost"]), false) {
        Err(TlsError::Exists { path }) => assert_eq!(path, key),
        other => panic!("{other:?}"),
    }
    assert!(!cert.exists());

    write_self_signed(&out, &names(&["localhost"]), true).expect("forced");
    assert_ne!(fs::read(&cert).expect("read cert"), before);
    let files = TlsFiles { cert, key };
    assert!(acceptor(&files).is_ok());
}

#[cfg(unix)]
#[test]
fn the_key_is_private_even_when_forced_over_a_public_one() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Scratch::new("mode");
    let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    let (_, key) = write_self_signed(&dir.0, &names(&["localhost"]), false).expect("first");
    assert_eq!(mode(&key), 0o600);
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod");
    write_self_signed(&dir.0, &names(&["localhost"]), true).expect("forced");
    assert_eq!(mode(&key), 0o600);
}

#[test]
fn cert_args_default_and_repeat() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: CertArgs,
    }
    let d = Cli::parse_from(["cert"]).args;
    assert_eq!(d.out, PathBuf::from("certs"));
    assert_eq!(d.names, names(&["localhost", "127.0.0.1"]));
    assert!(!d.force);
    let a = Cli::parse_from([
        "cert", "--out", "x", "--name", "a.test", "--name", "::1", "--force",
    ])
    .args;
    assert_eq!(a.out, PathBuf::from("x"));
    assert_eq!(a.names, names(&["a.test", "::1"]));
    assert!(a.force);
}

#[test]
fn run_cli_fails_with_1_when_files_exist() {
    let dir = Scratch::new("cli");
    let args = |force| CertArgs {
        out: dir.0.clone(),
        names: names(&["localhost"]),
        force,
    };
    assert_eq!(run_cli(args(false)), std::process::ExitCode::SUCCESS);
    assert_eq!(run_cli(args(false)), std::process::ExitCode::from(1));
    assert_eq!(run_cli(args(true)), std::process::ExitCode::SUCCESS);
}
