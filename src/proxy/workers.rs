//! The threads that carry connections: one single-threaded tokio runtime
//! per thread, all accepting from the proxy's one listening socket.
//!
//! A connection lives its whole life on the thread that accepted it, as in
//! HAProxy, nginx or Envoy: no task moves between cores, and no thread
//! waits on another's run queue or event loop. Against one work-stealing
//! runtime this cut the proxy's p99 with keep-alive from 1.27× HAProxy's to
//! about 1× (`benches/vs-haproxy.sh`). Health checks, metrics and reloads
//! stay on the runtime that started the proxy.

use super::accept::{accept_loop, listen};
use super::shared::Shared;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What every worker shares with the proxy that started it.
#[derive(Clone)]
pub struct Tokens {
    /// The proxy's state.
    pub shared: Arc<Shared>,
    /// Cancelled: workers stop accepting.
    pub accepting: CancellationToken,
    /// Cancelled: live connections are cut.
    pub cut: CancellationToken,
    /// Every connection task, for the drain.
    pub connections: TaskTracker,
    /// Every accept loop, so a shutdown knows when none is left.
    pub acceptors: TaskTracker,
}

/// The running worker threads; dropping this ends them (and any
/// connection still on them).
pub struct Workers {
    /// Cancelled once the proxy has fully stopped, or is dropped.
    stopped: CancellationToken,
    /// One message per thread, sent as it ends, its runtime gone.
    exited: Vec<oneshot::Receiver<()>>,
}

impl Workers {
    /// Starts `count` workers accepting on `address` (the real port when 0
    /// was asked); returns them with the address they listen on.
    pub fn start(
        count: usize,
        address: SocketAddr,
        tokens: &Tokens,
    ) -> io::Result<(Workers, SocketAddr)> {
        let listener = listen(address)?.into_std()?;
        let local = listener.local_addr()?;
        let mut workers = Workers {
            stopped: CancellationToken::new(),
            exited: Vec::with_capacity(count),
        };
        for index in 0..count.max(1) {
            // Every worker polls its own duplicate of the one listening
            // socket: whichever is free takes the next connection, so a
            // busy thread does not collect new ones while another idles.
            let started = listener
                .try_clone()
                .and_then(|own| workers.spawn(index, own, tokens.clone()));
            if let Err(e) = started {
                tokens.accepting.cancel();
                return Err(e);
            }
        }
        Ok((workers, local))
    }

    /// Starts worker `index` accepting on `listener`.
    fn spawn(
        &mut self,
        index: usize,
        listener: std::net::TcpListener,
        tokens: Tokens,
    ) -> io::Result<()> {
        let (exited, on_exit) = oneshot::channel();
        let stopped = self.stopped.clone();
        std::thread::Builder::new()
            .name(format!("lblab-proxy-{index}"))
            .spawn(move || {
                run(listener, tokens, stopped);
                let _ = exited.send(());
            })?;
        self.exited.push(on_exit);
        Ok(())
    }

    /// Ends the threads (their connections must be over or cut by now)
    /// and waits until each has closed its listener and runtime.
    pub async fn stop(mut self) {
        self.stopped.cancel();
        for exited in self.exited.drain(..) {
            // A thread that panicked has ended just the same.
            let _ = exited.await;
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stopped.cancel();
    }
}

/// One worker thread's life: accept until told to stop, then keep driving
/// its connections until `stopped`.
fn run(listener: std::net::TcpListener, tokens: Tokens, stopped: CancellationToken) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "a proxy worker cannot start its runtime");
            return;
        }
    };
    runtime.block_on(async move {
        match TcpListener::from_std(listener) {
            Ok(listener) => {
                let acceptors = tokens.acceptors.clone();
                acceptors.track_future(accept_loop(listener, tokens)).await;
            }
            Err(e) => tracing::error!(error = %e, "a proxy worker cannot poll the listener"),
        }
        // The connections this thread accepted run on its runtime, which
        // lives until the proxy has stopped.
        stopped.cancelled().await;
    });
}
