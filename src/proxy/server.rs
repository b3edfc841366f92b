//! A running proxy: its listener, the tasks it spawned, reload and
//! graceful shutdown. What the command line and the tests drive.

use super::config::ProxyConfig;
use super::pool::{Backend, Pool};
use super::shared::{Shared, limiter_for};
use super::workers::{Tokens, Workers};
use super::{health, tls};
use crate::policy::IpFilter;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Why a proxy could not start or reload.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address asked for.
        address: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The configuration breaks a rule (a file would have said where).
    #[error("{0}")]
    Invalid(String),
    /// The TLS certificate or key could not be used.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// How a graceful shutdown went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Connections still open when the drain timeout ran out, then cut.
    pub cut: u64,
}

/// A proxy that is accepting connections.
pub struct Proxy {
    /// The state, tokens and trackers the worker threads share.
    tokens: Tokens,
    local: SocketAddr,
    /// Stops health checks.
    checks: CancellationToken,
    background: TaskTracker,
    /// The threads connections run on.
    workers: Workers,
}

impl Proxy {
    /// Binds `config.listen` and starts accepting (one worker thread per
    /// core) and health checking.
    pub async fn start(config: ProxyConfig) -> Result<Proxy, StartError> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Proxy::start_with_workers(config, cores).await
    }

    /// As [`Proxy::start`], with `workers` threads carrying connections.
    /// Health checks, metrics and reloads run on the calling runtime.
    pub async fn start_with_workers(
        config: ProxyConfig,
        workers: usize,
    ) -> Result<Proxy, StartError> {
        let acceptor = config.tls.as_ref().map(tls::acceptor).transpose()?;
        let address = config.listen;
        let backends = config
            .backends
            .iter()
            .cloned()
            .map(|b| Arc::new(Backend::new(b)))
            .collect::<Vec<_>>();
        let shared = Arc::new(Shared::new(config, backends.clone()));
        shared.tls.store(acceptor.map(Arc::new));
        let tokens = Tokens {
            shared,
            accepting: CancellationToken::new(),
            cut: CancellationToken::new(),
            connections: TaskTracker::new(),
            acceptors: TaskTracker::new(),
        };
        let (workers, local) = Workers::start(workers, address, &tokens)
            .map_err(|source| StartError::Listen { address, source })?;
        let proxy = Proxy {
            tokens,
            local,
            checks: CancellationToken::new(),
            background: TaskTracker::new(),
            workers,
        };
        for backend in backends {
            proxy.watch(backend);
        }
        tracing::info!(address = %local, "listening");
        Ok(proxy)
    }

    /// The address clients connect to (the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Serves Prometheus metrics at `http://address/metrics` until the
    /// proxy stops; returns the address bound (the real port when 0).
    pub async fn serve_admin(&self, address: SocketAddr) -> Result<SocketAddr, StartError> {
        let listen_error = |source| StartError::Listen { address, source };
        let listener = TcpListener::bind(address).await.map_err(listen_error)?;
        let local = listener.local_addr().map_err(listen_error)?;
        self.background.spawn(super::admin::serve(
            listener,
            Arc::clone(&self.tokens.shared),
            self.checks.clone(),
        ));
        tracing::info!(address = %local, "metrics at /metrics");
        Ok(local)
    }

    /// The state the proxy's tasks share: counters, pool, configuration.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.tokens.shared
    }

    fn watch(&self, backend: Arc<Backend>) {
        self.background.spawn(health::watch(
            backend,
            Arc::clone(&self.tokens.shared),
            self.checks.clone(),
        ));
    }

    /// Puts `config` in force without dropping a live connection: backends
    /// kept by address keep their state and counters, new ones start
    /// checked, removed ones finish their connections. The listen address
    /// cannot change while running (that needs a restart) and is kept.
    pub fn reload(&self, mut config: ProxyConfig) -> Result<(), StartError> {
        config.validate().map_err(StartError::Invalid)?;
        let old = self.tokens.shared.config.load_full();
        if config.listen != old.listen {
            tracing::warn!(kept = %old.listen, asked = %config.listen, "the listen address changes only on restart");
            config.listen = old.listen;
        }
        let acceptor: Option<TlsAcceptor> = config.tls.as_ref().map(tls::acceptor).transpose()?;
        let pool = self.tokens.shared.pool.load_full();
        let mut backends = Vec::with_capacity(config.backends.len());
        for b in &config.backends {
            // A backend is kept when its address and name are unchanged; a
            // renamed one starts afresh, so logs and metrics never carry a
            // name it no longer has.
            let same = |k: &&Arc<Backend>| k.config.address == b.address && k.config.name == b.name;
            match pool.backends().iter().find(same) {
                Some(kept) => {
                    kept.weight
                        .store(b.weight, std::sync::atomic::Ordering::Relaxed);
                    backends.push(Arc::clone(kept));
                }
                None => {
                    let fresh = Arc::new(Backend::new(b.clone()));
                    self.watch(Arc::clone(&fresh));
                    backends.push(fresh);
                }
            }
        }
        for gone in pool.backends() {
            if !backends.iter().any(|b| Arc::ptr_eq(b, gone)) {
                gone.retired.cancel();
                if gone.active.load(std::sync::atomic::Ordering::Relaxed) > 0 {
                    let mut retired = self
                        .tokens
                        .shared
                        .retired
                        .lock()
                        .unwrap_or_else(|p| p.into_inner());
                    retired.push(Arc::clone(gone));
                }
            }
        }
        let added = backends.len();
        let limits_changed = old.rate_limit != config.rate_limit
            || old.rate_limit_sources != config.rate_limit_sources;
        if limits_changed {
            *self
                .tokens
                .shared
                .limiter
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = limiter_for(&config);
        }
        self.tokens
            .shared
            .filter
            .store(Arc::new(IpFilter::from(&config.filter)));
        self.tokens.shared.tls.store(acceptor.map(Arc::new));
        self.tokens
            .shared
            .pool
            .store(Arc::new(Pool::new(backends, config.algorithm)));
        tracing::info!(backends = added, algorithm = %config.algorithm, "configuration reloaded");
        self.tokens.shared.config.store(Arc::new(config));
        Ok(())
    }

    /// Stops accepting, lets live connections finish for up to `drain`,
    /// then cuts the rest and stops health checks.
    pub async fn shutdown(self, drain: Duration) -> ShutdownReport {
        self.tokens.accepting.cancel();
        self.tokens.acceptors.close();
        self.tokens.acceptors.wait().await;
        self.tokens.connections.close();
        let open = self.tokens.connections.len();
        tracing::info!(open, ?drain, "shutting down: no new connections");
        if tokio::time::timeout(drain, self.tokens.connections.wait())
            .await
            .is_err()
        {
            self.tokens.cut.cancel();
            self.tokens.connections.wait().await;
        }
        self.checks.cancel();
        self.background.close();
        self.background.wait().await;
        self.workers.stop().await;
        let cut = self
            .tokens
            .shared
            .stats
            .cut_at_shutdown
            .load(std::sync::atomic::Ordering::Relaxed);
        tracing::info!(cut, "stopped");
        ShutdownReport { cut }
    }
}
