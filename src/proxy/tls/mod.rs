//! TLS termination for `lblab proxy`, and self-signed certificates so it
//! can be tried on a laptop without a certificate authority.
//!
//! Every configuration is built on rustls' ring provider by hand: relying
//! on a process-wide default would make the result depend on which crates
//! happen to be linked in, and panic when more than one provider is.

mod generate;
#[cfg(test)]
mod tests;

pub use generate::{CERT_FILE, CertArgs, KEY_FILE, run_cli, self_signed, write_self_signed};

use crate::proxy::config::TlsFiles;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{ClientConfig, InconsistentKeys, RootCertStore, ServerConfig};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Why TLS could not be set up or a certificate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate file could not be opened or read.
    #[error("cannot read cert file {}: {source}", path.display())]
    ReadCert {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// A key file could not be opened or read.
    #[error("cannot read key file {}: {source}", path.display())]
    ReadKey {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// A file is not well-formed PEM.
    #[error("{} is not valid PEM: {source}", path.display())]
    BadPem {
        /// The file.
        path: PathBuf,
        /// What the PEM reader said.
        #[source]
        source: pem::Error,
    },
    /// A certificate file holds no `CERTIFICATE` section.
    #[error("{} holds no certificate", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A key file holds no private key section (PKCS#8, PKCS#1 or SEC1).
    #[error("{} holds no private key", path.display())]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The private key is well-formed PEM that rustls cannot sign with.
    #[error("{} holds a private key rustls cannot use: {source}", path.display())]
    BadKey {
        /// The key file.
        path: PathBuf,
        /// What rustls said.
        #[source]
        source: rustls::Error,
    },
    /// A certificate rustls cannot parse or use.
    #[error("{} holds a certificate rustls cannot use: {source}", path.display())]
    BadCertificate {
        /// The certificate file.
        path: PathBuf,
        /// What rustls said.
        #[source]
        source: rustls::Error,
    },
    /// The private key is not the key of the leaf certificate.
    #[error(
        "the key in {} does not match the certificate in {}",
        key.display(),
        cert.display()
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refused a configuration for another reason.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// A certificate was asked for with no name to be valid for.
    #[error("a certificate needs at least one DNS name or IP address")]
    NoNames,
    /// A name that is neither a DNS name nor an IP address.
    #[error("{name:?} is neither a DNS name nor an IP address")]
    BadName {
        /// The name as given.
        name: String,
    },
    /// rcgen could not generate the certificate or its key.
    #[error("cannot generate a certificate: {0}")]
    Generate(#[source] rcgen::Error),
    /// A file that would be overwritten without being asked to.
    #[error("{} already exists; pass --force to overwrite it", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The output directory could not be created.
    #[error("cannot create directory {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// A generated file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// A TLS acceptor serving the certificate chain and key in `files`, with no
/// client authentication and no ALPN (the proxy is Layer 4: it does not
/// know what protocol the decrypted bytes speak, so it offers none).
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsError> {
    let certs = read_certs(&files.cert)?;
    let key = read_key(&files.key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let signer = provider
        .key_provider
        .load_private_key(key)
        .map_err(|source| TlsError::BadKey {
            path: files.key.clone(),
            source,
        })?;
    let certified = CertifiedKey::new(certs, signer);
    // Checked here rather than left to rustls so the error can name both
    // files; `Unknown` means the key cannot tell, which rustls accepts too.
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            return Err(TlsError::KeyMismatch {
                cert: files.cert.clone(),
                key: files.key.clone(),
            });
        }
        Err(source) => {
            return Err(TlsError::BadCertificate {
                path: files.cert.clone(),
                source,
            });
        }
    }
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A client configuration whose only trust anchors are the certificates in
/// the PEM file `cert_pem_path` (for a self-signed certificate: exactly
/// that one), so it talks to a proxy using it and to nothing else.
pub fn client_config_trusting(cert_pem_path: &Path) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in read_certs(cert_pem_path)? {
        roots.add(cert).map_err(|source| TlsError::BadCertificate {
            path: cert_pem_path.to_owned(),
            source,
        })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Every certificate in a PEM file, in order; at least one.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |e: pem::Error| match e {
        pem::Error::Io(source) => TlsError::ReadCert {
            path: path.to_owned(),
            source,
        },
        pem::Error::NoItemsFound => TlsError::NoCertificate {
            path: path.to_owned(),
        },
        source => TlsError::BadPem {
            path: path.to_owned(),
            source,
        },
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(fail)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The first private key in a PEM file.
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        pem::Error::Io(source) => TlsError::ReadKey {
            path: path.to_owned(),
            source,
        },
        pem::Error::NoItemsFound => TlsError::NoPrivateKey {
            path: path.to_owned(),
        },
        source => TlsError::BadPem {
            path: path.to_owned(),
            source,
        },
    })
}
