//! A protocol of the caller's own, served with a demo backend's listener,
//! kill and revive: what a lab's server speaks when a lab runs on real
//! sockets.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use tokio::net::TcpStream;

/// The future one connection is served by.
pub type Serving = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

/// Serves accepted connections; a backend started with one speaks it
/// instead of HTTP or echo. A kill drops the future mid-way, as a crash
/// would.
pub trait Service: Send + Sync + fmt::Debug {
    /// Serves one accepted connection until it ends.
    fn serve(self: Arc<Self>, stream: TcpStream) -> Serving;
}
