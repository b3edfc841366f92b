//! One echo connection: every byte back, then a half-close back.

use super::shared::Shared;
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Echoes until the client half-closes, then half-closes back, so that a
/// client can tell the echo is complete.
pub(crate) async fn serve(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let delay = shared.options.delay;
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        // Each chunk is an answer: a slow backend is slow on every one.
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        stream.write_all(&chunk[..n]).await?;
    }
    stream.shutdown().await?;
    shared.count_served();
    Ok(())
}
