//! A demo backend: a listener, its connections, and a switch to kill and
//! revive them.

use super::shared::Shared;
use super::{BackendOptions, Mode, Service, echo, http_conn};
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A small real server on one address, answering HTTP or echoing, that
/// can be killed and revived while clients use it. Dropping it closes the
/// listener and every connection.
#[derive(Debug)]
pub struct DemoBackend {
    shared: Arc<Shared>,
    addr: SocketAddr,
    run: Mutex<Run>,
    /// One revive at a time, so two cannot race for the port.
    reviving: tokio::sync::Mutex<()>,
}

impl DemoBackend {
    /// Binds `addr` (port 0: any free port) and starts serving. Must be
    /// called inside a tokio runtime, which then runs its tasks.
    pub async fn spawn(
        name: impl Into<String>,
        addr: SocketAddr,
        options: BackendOptions,
    ) -> io::Result<DemoBackend> {
        DemoBackend::start(name.into(), addr, options, None, None).await
    }

    /// Like [`spawn`](Self::spawn), speaking `service` on every
    /// connection instead of HTTP or echo, with a listen queue of
    /// `backlog` connections (the kernel may cap it).
    pub async fn spawn_service(
        name: impl Into<String>,
        addr: SocketAddr,
        service: Arc<dyn Service>,
        backlog: u32,
    ) -> io::Result<DemoBackend> {
        let options = BackendOptions::default();
        DemoBackend::start(name.into(), addr, options, Some(service), Some(backlog)).await
    }

    async fn start(
        name: String,
        addr: SocketAddr,
        options: BackendOptions,
        service: Option<Arc<dyn Service>>,
        backlog: Option<u32>,
    ) -> io::Result<DemoBackend> {
        check(&name, &options)?;
        let listener = bind_with(addr, backlog).await?;
        let addr = listener.local_addr()?;
        let mut shared = Shared::new(name, options, addr.port());
        shared.service = service;
        shared.backlog = backlog;
        let shared = Arc::new(shared);
        let run = Run::start(listener, &shared);
        Ok(DemoBackend {
            shared,
            addr,
            run: Mutex::new(run),
            reviving: tokio::sync::Mutex::new(()),
        })
    }

    /// The address it listens on, with the real port.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its name, as it appears in answers and the `X-Backend` header.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// What it speaks.
    pub fn mode(&self) -> Mode {
        self.shared.options.mode
    }

    /// Closes the listener and every live connection at once, as a crash
    /// would: when this returns, connecting to the address is refused.
    /// Does nothing if already dead.
    pub fn kill(&self) {
        self.lock_run().stop();
    }

    /// Serves again on the same address after [`kill`](Self::kill), once
    /// the old connections are gone. Does nothing if alive; fails if
    /// another program took the port meanwhile.
    pub async fn revive(&self) -> io::Result<()> {
        let _one_at_a_time = self.reviving.lock().await;
        let old = {
            let run = self.lock_run();
            if run.alive() {
                return Ok(());
            }
            run.tracker.clone()
        };
        old.wait().await;
        let listener = bind_with(self.addr, self.shared.backlog).await?;
        *self.lock_run() = Run::start(listener, &self.shared);
        Ok(())
    }

    /// Whether it is serving (not killed).
    pub fn is_alive(&self) -> bool {
        self.lock_run().alive()
    }

    /// Requests answered so far (in echo mode: echoes completed), across
    /// kills and revives.
    pub fn served(&self) -> u64 {
        self.shared.served()
    }

    /// Connections accepted so far, across kills and revives.
    pub fn connections(&self) -> u64 {
        self.shared.connections()
    }

    fn lock_run(&self) -> MutexGuard<'_, Run> {
        // A panic elsewhere while holding the lock leaves a Run that is
        // still consistent: each field is replaced whole.
        self.run.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for DemoBackend {
    fn drop(&mut self) {
        self.run
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .stop();
    }
}

/// Refuses what would make a broken header or a meaningless rate.
fn check(name: &str, options: &BackendOptions) -> io::Result<()> {
    let invalid = |msg: String| Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
    if name.is_empty() || name.chars().any(char::is_control) {
        return invalid(format!(
            "backend name {name:?} is empty or holds control characters"
        ));
    }
    if !(0.0..=1.0).contains(&options.fail_rate) {
        return invalid(format!(
            "fail rate {} is not between 0 and 1",
            options.fail_rate
        ));
    }
    Ok(())
}

/// Binds with a listen queue of `backlog` (the default without one).
async fn bind_with(addr: SocketAddr, backlog: Option<u32>) -> io::Result<TcpListener> {
    let Some(backlog) = backlog else {
        return bind(addr).await;
    };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }?;
    // A revived server takes its port back while its old connections may
    // linger in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket
        .bind(addr)
        .and_then(|()| socket.listen(backlog))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

/// Binds, with the address in the error so that a taken port is obvious.
async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

/// One life of a backend, from a bind to a kill.
#[derive(Debug)]
struct Run {
    listener: Arc<ListenerSlot>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Run {
    fn start(listener: TcpListener, shared: &Arc<Shared>) -> Run {
        let run = Run {
            listener: Arc::new(ListenerSlot(Mutex::new(Some(listener)))),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
        };
        let accept = accept_loop(
            Arc::clone(&run.listener),
            Arc::clone(shared),
            run.cancel.clone(),
            run.tracker.clone(),
        );
        run.tracker.spawn(accept);
        run
    }

    fn alive(&self) -> bool {
        !self.cancel.is_cancelled()
    }

    fn stop(&self) {
        // Closing the socket here, not in the accept task, is what makes
        // the refusal immediate rather than whenever that task next runs.
        self.listener.close();
        self.cancel.cancel();
        self.tracker.close();
    }
}

/// The listener, held where [`Run::stop`] can close it synchronously while
/// the accept task only borrows it for each poll.
#[derive(Debug)]
struct ListenerSlot(Mutex<Option<TcpListener>>);

impl ListenerSlot {
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<Option<io::Result<TcpStream>>> {
        let slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.as_ref() {
            None => Poll::Ready(None),
            Some(listener) => listener
                .poll_accept(cx)
                .map(|r| Some(r.map(|(stream, _)| stream))),
        }
    }

    fn close(&self) {
        let taken = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        drop(taken);
    }
}

async fn accept_loop(
    listener: Arc<ListenerSlot>,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            accepted = poll_fn(|cx| listener.poll_accept(cx)) => accepted,
        };
        match accepted {
            None => return,
            Some(Ok(stream)) => {
                shared.count_connection();
                tracker.spawn(connection(stream, Arc::clone(&shared), cancel.clone()));
            }
            Some(Err(e)) => {
                // Usually out of file descriptors: pausing lets some
                // connections finish instead of spinning on the error.
                tracing::warn!(backend = %shared.name, "accept failed: {e}");
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
        }
    }
}

/// Serves one connection until it ends or the backend is killed; dropping
/// the stream on a kill closes it as a dying process would.
async fn connection(stream: TcpStream, shared: Arc<Shared>, cancel: CancellationToken) {
    // Answers are small and pipelined ones go out one by one: Nagle would
    // hold each behind the client's delayed ACK.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(backend = %shared.name, "cannot set TCP_NODELAY: {e}");
    }
    let served = async {
        if let Some(service) = &shared.service {
            return Arc::clone(service).serve(stream).await;
        }
        match shared.options.mode {
            Mode::Http => http_conn::serve(stream, &shared).await,
            Mode::Echo => echo::serve(stream, &shared).await,
        }
    };
    tokio::select! {
        biased;
        () = cancel.cancelled() => {}
        result = served => {
            if let Err(e) = result {
                tracing::debug!(backend = %shared.name, "connection ended: {e}");
            }
        }
    }
}
