//! Reading a proxy configuration: the format by extension, parse errors
//! and bad values at `FILE:LINE:COL`, addresses resolved once.

use super::json::JsonConfig;
use super::ron_file::RonConfig;
use super::{BackendConfig, HealthConfig, ProbeKind, ProxyConfig, TlsFiles, json, json_locate};
use crate::lab::LabError;
use crate::lab::load::{Kind, parse_as, read_text_as};
use crate::lab::locate::locate as locate_ron;
use crate::policy::RateLimit;
use crate::spec::{Algorithm, FilterSpec, RateLimitSpec};
use std::collections::HashSet;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The two ways a configuration can be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// lblab's own, in RON.
    Ron,
    /// The source design's `config.json`.
    Json,
}

impl Format {
    /// The format a file's extension names.
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "ron" => Some(Format::Ron),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// A configuration's values before addresses are resolved and relations
/// checked: what both formats turn into.
#[derive(Debug)]
pub(super) struct Draft {
    pub listen: String,
    pub tls: Option<(String, String)>,
    pub algorithm: Algorithm,
    pub backends: Vec<DraftBackend>,
    pub health: HealthConfig,
    pub connect_timeout: Duration,
    pub connect_tries: u32,
    pub idle_timeout: Option<Duration>,
    pub max_connections: Option<u32>,
    pub rate_limit: Option<RateLimitSpec>,
    pub filter: FilterSpec,
    pub sticky: Option<Duration>,
    pub respond_503: bool,
    pub drain_timeout: Duration,
}

/// One backend as written.
#[derive(Debug)]
pub(super) struct DraftBackend {
    pub address: String,
    pub weight: u32,
    pub name: Option<String>,
}

/// A value a check can be about; each format knows where it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    Listen,
    TlsCert,
    TlsKey,
    Backends,
    BackendAddress(usize),
    BackendName(usize),
    HealthInterval,
    HealthTimeout,
    HealthJitter,
    HealthPath,
    IdleTimeout,
    RateLimit,
    Filter,
}

/// Reads the configuration at `path`; its extension (`.ron` or `.json`)
/// says which format. Relative TLS paths are taken from the file's folder.
pub fn load_file(path: &Path) -> Result<ProxyConfig, LabError> {
    let origin = path.display().to_string();
    let format = Format::of(path).ok_or_else(|| {
        LabError::whole(
            &origin,
            "a proxy configuration ends in .ron (lblab's format) or .json (the source \
             design's config.json)"
                .into(),
        )
    })?;
    let text = read_text_as(path, &origin, Kind::Config)?;
    // A `ScriptFile` algorithm is read beside the configuration, as a
    // lab's is beside the lab.
    let mut config = crate::lab::load::beside(path, || load_str(&text, &origin, format))?;
    if let (Some(tls), Some(dir)) = (config.tls.as_mut(), path.parent()) {
        tls.cert = dir.join(&tls.cert);
        tls.key = dir.join(&tls.key);
    }
    Ok(config)
}

/// Parses and checks a configuration written in `format`; `origin` names
/// the text in errors.
pub fn load_str(text: &str, origin: &str, format: Format) -> Result<ProxyConfig, LabError> {
    let (text, draft) = match format {
        Format::Ron => {
            let (text, file): (&str, RonConfig) = parse_as(text, origin, Kind::Config)?;
            (text, file.into_draft())
        }
        Format::Json => {
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            let file: JsonConfig =
                serde_json::from_str(text).map_err(|e| json_error(origin, &e))?;
            let draft = file
                .into_draft()
                .map_err(|(field, message)| at(text, origin, format, field, message))?;
            (text, draft)
        }
    };
    check(draft).map_err(|(field, message)| at(text, origin, format, field, message))
}

fn json_error(origin: &str, e: &serde_json::Error) -> LabError {
    // serde_json counts columns from 1 and lines from 1; 0 means "no place".
    let message = e.to_string();
    let message = match message.rfind(" at line ") {
        Some(k) => message[..k].to_string(),
        None => message,
    };
    LabError {
        origin: origin.to_string(),
        line: e.line(),
        col: e.column().max(usize::from(e.line() > 0)),
        message,
    }
}

fn at(text: &str, origin: &str, format: Format, field: Field, message: String) -> LabError {
    let offset = match format {
        Format::Ron => locate_ron(text, &super::ron_file::path(field)),
        Format::Json => {
            let paths = json::paths(field);
            paths
                .iter()
                .find_map(|p| json_locate::find_value(text, p))
                .unwrap_or_else(|| json_locate::locate(text, &paths[0]))
        }
    };
    LabError::at(origin, text, offset, message)
}

/// Resolves addresses and checks what no single value shows.
fn check(d: Draft) -> Result<ProxyConfig, (Field, String)> {
    let listen = listen_address(&d.listen).map_err(|m| (Field::Listen, m))?;
    if d.backends.is_empty() {
        return Err((
            Field::Backends,
            "the proxy needs at least one backend".into(),
        ));
    }
    let mut names = HashSet::new();
    let mut addresses = HashSet::new();
    let mut backends = Vec::with_capacity(d.backends.len());
    for (i, b) in d.backends.into_iter().enumerate() {
        let address = resolve(&b.address).map_err(|m| (Field::BackendAddress(i), m))?;
        if address.port() == 0 || address.ip().is_unspecified() {
            let m = format!(
                "{} is not an address a connect can reach (port 0 or an unspecified host)",
                b.address
            );
            return Err((Field::BackendAddress(i), m));
        }
        if !addresses.insert(address) {
            let m = format!("{} is already a backend ({address})", b.address);
            return Err((Field::BackendAddress(i), m));
        }
        let name = b.name.unwrap_or_else(|| format!("backend-{}", i + 1));
        if name.trim().is_empty() {
            return Err((
                Field::BackendName(i),
                "a backend's name may not be empty".into(),
            ));
        }
        if !names.insert(name.clone()) {
            return Err((
                Field::BackendName(i),
                format!("two backends are named {name:?}"),
            ));
        }
        backends.push(BackendConfig {
            address,
            written: b.address,
            name,
            weight: b.weight,
        });
    }
    let rate_limit = d
        .rate_limit
        .map(|spec| RateLimit::from_spec(&spec).map_err(|e| (Field::RateLimit, e.to_string())))
        .transpose()?;
    let config = ProxyConfig {
        listen,
        tls: d.tls.map(|(cert, key)| TlsFiles {
            cert: PathBuf::from(cert),
            key: PathBuf::from(key),
        }),
        algorithm: d.algorithm,
        backends,
        health: d.health,
        connect_timeout: d.connect_timeout.max(Duration::from_millis(1)),
        connect_tries: d.connect_tries.max(1),
        idle_timeout: d.idle_timeout.filter(|t| !t.is_zero()),
        max_connections: d.max_connections,
        rate_limit,
        rate_limit_sources: d.rate_limit.map_or(65_536, |s| s.sources.get() as usize),
        filter: d.filter,
        sticky: d.sticky.filter(|t| !t.is_zero()),
        respond_503: d.respond_503,
        drain_timeout: d.drain_timeout,
    };
    check_rules(&config)?;
    Ok(config)
}

/// The shortest idle timeout: shorter would cut connections between two
/// packets of a healthy exchange.
pub const MIN_IDLE_TIMEOUT: Duration = Duration::from_millis(100);

/// The rules a running configuration keeps, whoever changes it (a file, a
/// reload, the dashboard): what each breaks, and where a file says it.
pub(super) fn check_rules(c: &ProxyConfig) -> Result<(), (Field, String)> {
    if c.backends.is_empty() {
        return Err((
            Field::Backends,
            "the proxy needs at least one backend".into(),
        ));
    }
    check_health(&c.health)?;
    if let Some(idle) = c.idle_timeout
        && idle < MIN_IDLE_TIMEOUT
    {
        return Err((
            Field::IdleTimeout,
            format!(
                "an idle timeout of {idle:?} would cut connections between two packets; \
                 use at least {MIN_IDLE_TIMEOUT:?}, or none"
            ),
        ));
    }
    Ok(())
}

fn check_health(h: &HealthConfig) -> Result<(), (Field, String)> {
    if h.interval.is_zero() {
        return Err((
            Field::HealthInterval,
            "the time between probes must be longer than zero".into(),
        ));
    }
    if h.jitter > h.interval {
        return Err((
            Field::HealthJitter,
            format!(
                "jitter ({:?}) longer than the interval ({:?}) would leave backends unchecked \
                 for most of a second interval",
                h.jitter, h.interval
            ),
        ));
    }
    if h.timeout.is_zero() || h.timeout > h.interval {
        return Err((
            Field::HealthTimeout,
            format!(
                "a probe's timeout ({:?}) must be longer than zero and no longer than its \
                 interval ({:?}): a probe still waiting when the next one starts would be \
                 counted twice",
                h.timeout, h.interval
            ),
        ));
    }
    if let ProbeKind::Http { path } = &h.kind
        && (!path.starts_with('/') || path.bytes().any(|b| b.is_ascii_whitespace()))
    {
        return Err((
            Field::HealthPath,
            format!("an HTTP probe's path starts with / and has no spaces, found {path:?}"),
        ));
    }
    Ok(())
}

/// The address to listen on. `:8080` (Go's way of saying every interface)
/// means `0.0.0.0:8080`.
fn listen_address(text: &str) -> Result<SocketAddr, String> {
    if let Some(port) = text.strip_prefix(':') {
        return resolve(&format!("0.0.0.0:{port}"));
    }
    resolve(text)
}

/// Resolves `host:port`, preferring IPv4 (demo backends listen on
/// 127.0.0.1, while `localhost` may resolve to `::1` first).
fn resolve(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(format!(
            "expected host:port, like 127.0.0.1:9001, found {text:?}"
        ));
    };
    if port.parse::<u16>().is_err() {
        return Err(format!(
            "the port of {text:?} must be a number from 0 to 65535"
        ));
    }
    if host.is_empty() {
        return Err(format!("{text:?} has no host"));
    }
    let found: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {text:?}: {e}"))?
        .collect();
    found
        .iter()
        .find(|a| a.is_ipv4())
        .or(found.first())
        .copied()
        .ok_or_else(|| format!("{text:?} resolves to no address"))
}
