//! Self-signed certificates for trying TLS termination locally, and the
//! `lblab cert` command that writes one.

use super::TlsError;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rustls::pki_types::ServerName;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The certificate's file name inside the output directory.
pub const CERT_FILE: &str = "server.crt";
/// The private key's file name inside the output directory.
pub const KEY_FILE: &str = "server.key";

/// A fresh self-signed certificate and its new ECDSA P-256 key, both PEM,
/// valid for `names`: an entry that parses as an IP address becomes an IP
/// address SAN, any other a DNS name SAN (`*.example.test` allowed).
pub fn self_signed(names: &[String]) -> Result<(String, String), TlsError> {
    let Some(first) = names.first() else {
        return Err(TlsError::NoNames);
    };
    // rcgen takes almost any ASCII as a DNS name, but a client could never
    // match a certificate for "my host", so such names are refused here.
    for name in names {
        let bare = name.strip_prefix("*.").unwrap_or(name);
        if ServerName::try_from(bare).is_err() {
            return Err(TlsError::BadName { name: name.clone() });
        }
    }
    let mut params = CertificateParams::new(names.to_vec()).map_err(TlsError::Generate)?;
    // Clients only look at the SANs; the subject is named after the first
    // one so `openssl x509 -text` shows what the certificate is for.
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, first.as_str());
    let key = KeyPair::generate().map_err(TlsError::Generate)?;
    let cert = params.self_signed(&key).map_err(TlsError::Generate)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Writes a self-signed certificate for `names` to `dir/server.crt` and its
/// key to `dir/server.key` (mode 0600 on unix), creating `dir` if missing.
/// Refuses to replace either file unless `force`. Returns (cert, key) paths.
pub fn write_self_signed(
    dir: &Path,
    names: &[String],
    force: bool,
) -> Result<(PathBuf, PathBuf), TlsError> {
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    if !force {
        // Both are checked before either is written, so a refusal never
        // leaves a new certificate next to an old key.
        for path in [&cert_path, &key_path] {
            if path.symlink_metadata().is_ok() {
                return Err(TlsError::Exists { path: path.clone() });
            }
        }
    }
    // Generated before the disk is touched, so a bad name writes nothing.
    let (cert_pem, key_pem) = self_signed(names)?;
    fs::create_dir_all(dir).map_err(|source| TlsError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    write_file(&key_path, key_pem.as_bytes(), force, true)?;
    write_file(&cert_path, cert_pem.as_bytes(), force, false)?;
    Ok((cert_path, key_path))
}

/// Writes `bytes` to `path`; a `private` file is readable by its owner only.
fn write_file(path: &Path, bytes: &[u8], force: bool, private: bool) -> Result<(), TlsError> {
    let failed = |source: io::Error| match source.kind() {
        io::ErrorKind::AlreadyExists => TlsError::Exists {
            path: path.to_owned(),
        },
        _ => TlsError::Write {
            path: path.to_owned(),
            source,
        },
    };
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // Not just `create`: another writer may have appeared since the
        // check in `write_self_signed`.
        options.create_new(true);
    }
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(failed)?;
    // The mode above only applies to a new file; a key overwritten with
    // --force must not keep looser permissions, and is narrowed before the
    // secret goes in.
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(failed)?;
    }
    #[cfg(not(unix))]
    let _ = private;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// Arguments of the command that writes a self-signed certificate.
#[derive(clap::Args, Debug)]
pub struct CertArgs {
    /// Directory to write server.crt and server.key into (created if missing).
    #[arg(long, value_name = "DIR", default_value = "certs")]
    pub out: PathBuf,
    /// A DNS name or IP address the certificate is valid for; repeat for more.
    #[arg(
        long = "name",
        value_name = "NAME",
        default_values = ["localhost", "127.0.0.1"]
    )]
    pub names: Vec<String>,
    /// Replace server.crt and server.key if they already exist.
    #[arg(long)]
    pub force: bool,
}

/// Runs the certificate command: prints the certificate's path, then the
/// key's, one per line, or the error on stderr and exits with 1.
pub fn run_cli(args: CertArgs) -> ExitCode {
    match write_self_signed(&args.out, &args.names, args.force) {
        Ok((cert, key)) => {
            println!("{}", cert.display());
            println!("{}", key.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lblab: {e}");
            ExitCode::from(1)
        }
    }
}
