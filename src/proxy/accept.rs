//! Where a connection enters: the listening socket each worker thread
//! owns, its accept loop, and the first steps of every connection
//! (admission, TLS), before `conn` proxies it.

use super::shared::Shared;
use super::stats::Rejection;
use super::workers::Tokens;
use super::{admit, conn};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// How long a client has to finish its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections waiting to be accepted before the OS refuses more (the
/// kernel caps it at `net.core.somaxconn`).
const BACKLOG: u32 = 4096;

/// The proxy's listening socket. Accepted connections start with
/// `TCP_NODELAY` set: Linux copies the option from the listening socket,
/// which saves one system call on every connection.
pub fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As `TcpListener::bind`: a restarted proxy can bind its port while
    // connections of the last run are in TIME-WAIT.
    socket.set_reuseaddr(true)?;
    socket.set_nodelay(true)?;
    socket.bind(address)?;
    socket.listen(BACKLOG)
}

/// Accepts until `accepting` is cancelled; each admitted connection gets a
/// task of its own on this thread's runtime, tracked for the drain.
pub async fn accept_loop(listener: TcpListener, tokens: Tokens) {
    let Tokens {
        shared,
        accepting,
        cut,
        connections,
        ..
    } = tokens;
    // One registration with the token for the loop's whole life, not one
    // (under the token's lock) per accepted connection.
    let stop = accepting.cancelled();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of descriptors and the like: wait a little rather
                // than spin, and keep serving.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        shared.stats.accepted.fetch_add(1, Relaxed);
        let shared = Arc::clone(&shared);
        let cut = cut.clone();
        connections.spawn(async move {
            let work = async {
                let _admitted = match admit::admit(&shared, peer.ip()) {
                    Ok(a) => a,
                    Err(why) => {
                        shared.stats.reject(why);
                        tracing::info!(%peer, reason = %why, "refused");
                        return;
                    }
                };
                handle(stream, peer, Arc::clone(&shared)).await;
            };
            // The drain's end cuts a connection in whatever phase it is:
            // a handshake, a connect, a 503's linger or the copy.
            tokio::select! {
                () = work => {}
                () = cut.cancelled() => {
                    shared.stats.cut_at_shutdown.fetch_add(1, Relaxed);
                    tracing::info!(%peer, "closed: drain timeout passed");
                }
            }
        });
    }
}

/// Terminates TLS when configured, then proxies.
async fn handle(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    // Small writes (requests, acknowledgements) must not wait for Nagle.
    // The option is inherited from the listener on Linux; elsewhere it is
    // set here.
    if cfg!(not(target_os = "linux")) {
        let _ = stream.set_nodelay(true);
    }
    let acceptor = shared.tls.load_full();
    match acceptor {
        None => conn::serve(stream, true, peer, shared).await,
        Some(acceptor) => {
            // Boxed: a TLS session's state is kilobytes, which every plain
            // connection's task would otherwise carry and copy at spawn.
            let handshake = Box::pin(acceptor.accept(stream));
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake).await {
                Ok(Ok(tls)) => Box::pin(conn::serve(tls, false, peer, shared)).await,
                Ok(Err(e)) => {
                    shared.stats.reject(Rejection::TlsHandshake);
                    tracing::info!(%peer, error = %e, "refused: TLS handshake failed");
                }
                Err(_) => {
                    shared.stats.reject(Rejection::TlsHandshake);
                    tracing::info!(%peer, "refused: TLS handshake timed out");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The proxy no longer sets `TCP_NODELAY` per connection on Linux: it
    /// relies on accepted sockets inheriting it from the listener.
    #[tokio::test]
    async fn accepted_connections_start_without_nagle() {
        let listener = listen("127.0.0.1:0".parse().expect("an address")).expect("listen");
        let address = listener.local_addr().expect("local address");
        let _client = TcpStream::connect(address).await.expect("connect");
        let (accepted, _) = listener.accept().await.expect("accept");
        assert!(
            accepted.nodelay().expect("read TCP_NODELAY"),
            "an accepted connection did not inherit TCP_NODELAY"
        );
    }
}
