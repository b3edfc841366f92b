//! One HTTP connection of a demo backend: requests answered in order,
//! bodies skipped, kept alive until the client asks to close.

use super::http::{self, MAX_BODY, Parsed, Request, Status};
use super::shared::Shared;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a closing connection keeps reading what the client still
/// sends, so that its unread bytes do not turn our FIN into an RST that
/// could destroy the response before the client reads it.
const LINGER: Duration = Duration::from_secs(1);
/// How much it reads in that time before giving up on a polite close.
const LINGER_BYTES: u64 = 2 * MAX_BODY;

/// Serves requests until the client closes or asks to close.
pub(crate) async fn serve(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(256);
    loop {
        match http::parse(&buf) {
            Parsed::Complete(request) => {
                buf.drain(..request.head_len);
                if !skip_body(&mut stream, &mut buf, request.body_len).await? {
                    return Ok(());
                }
                out.clear();
                answer(&request, shared, &mut out).await;
                stream.write_all(&out).await?;
                shared.count_served();
                if !request.keep_alive {
                    return close(stream).await;
                }
            }
            Parsed::Partial => {
                buf.reserve(8 * 1024);
                if stream.read_buf(&mut buf).await? == 0 {
                    return Ok(());
                }
            }
            Parsed::Invalid(status) => {
                out.clear();
                let body = format!("{}\n", status.reason());
                http::write_response(
                    &mut out,
                    status,
                    &shared.name,
                    body.as_bytes(),
                    false,
                    false,
                );
                stream.write_all(&out).await?;
                return close(stream).await;
            }
        }
    }
}

/// Writes the answer to `request` into `out`, after the backend's delay.
async fn answer(request: &Request, shared: &Shared, out: &mut Vec<u8>) {
    let delay = shared.options.delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (status, body) = if request.health {
        (Status::Ok, "ok\n".to_string())
    } else if shared.should_fail() {
        let status = Status::InternalServerError;
        (status, format!("{}\n", status.reason()))
    } else {
        (Status::Ok, format!("Hello from {}\n", shared.name))
    };
    let name = &shared.name;
    let (keep_alive, head_only) = (request.keep_alive, request.head_only);
    http::write_response(out, status, name, body.as_bytes(), keep_alive, head_only);
}

/// Drops `len` body bytes, first from `buf`, then from the stream without
/// reading past them (they may be followed by a pipelined request).
/// False when the client closed before the body ended.
async fn skip_body(stream: &mut TcpStream, buf: &mut Vec<u8>, len: u64) -> io::Result<bool> {
    let buffered = usize::try_from(len).map_or(buf.len(), |len| len.min(buf.len()));
    buf.drain(..buffered);
    let mut left = len - buffered as u64;
    let mut scratch = [0u8; 8 * 1024];
    while left > 0 {
        let want = usize::try_from(left).map_or(scratch.len(), |l| l.min(scratch.len()));
        let n = stream.read(&mut scratch[..want]).await?;
        if n == 0 {
            return Ok(false);
        }
        left -= n as u64;
    }
    Ok(true)
}

/// Half-closes, then reads until the client closes too (or a while).
async fn close(mut stream: TcpStream) -> io::Result<()> {
    stream.shutdown().await?;
    let drain = async {
        let mut sink = tokio::io::sink();
        let mut limited = (&mut stream).take(LINGER_BYTES);
        tokio::io::copy(&mut limited, &mut sink).await
    };
    // The answer is already sent: what follows is only politeness.
    let _ = tokio::time::timeout(LINGER, drain).await;
    Ok(())
}
