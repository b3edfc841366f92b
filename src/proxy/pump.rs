//! Copies bytes both ways between a client and its backend, with
//! half-close, until both directions have ended.
//!
//! Compared with `tokio::io::copy_bidirectional`, three things differ,
//! each measured against HAProxy (`benches/vs-haproxy.sh`):
//! * buffers come from [`buffers`] and are held only while bytes wait to be
//!   written, so an idle connection holds none;
//! * what is read is counted and the connection's [`Activity`] touched in
//!   the same pass, for the per-backend byte counters and the idle timeout;
//! * a writer is shut down only when its peer may still be talking: when
//!   both readers have ended (in one pass, or the second after the first's
//!   shutdown), a plain TCP writer is closed without a `shutdown`, since
//!   both peers have sent their FIN and everything is read, so `close`
//!   sends the FIN itself. A TLS writer always gets its `shutdown`, which
//!   sends `close_notify`. (A backend that answers and closes usually has
//!   its FIN read with its answer, before the client has read and closed,
//!   so the client still gets a `shutdown`: deferring that read by a turn
//!   saved a fifth of them but cost keep-alive a tenth of its requests/s.)

use super::activity::Activity;
use super::buffers;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// One end of a proxied connection.
pub struct End<'a, S> {
    /// The stream.
    pub stream: &'a mut S,
    /// Counts the bytes read from this end.
    pub read_bytes: &'a AtomicU64,
    /// Whether closing the stream alone ends it cleanly (plain TCP; not
    /// TLS, whose clean end is a `close_notify` sent by `shutdown`).
    pub plain: bool,
}

/// Copies `a` to `b` and `b` to `a` until both have sent everything and
/// ended; each end's write side is shut down once its reader is done.
pub async fn pump<A, B>(a: End<'_, A>, b: End<'_, B>, activity: &Activity) -> io::Result<()>
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let mut a_to_b = Direction::new();
    let mut b_to_a = Direction::new();
    poll_fn(|cx| {
        // Copy both ways first, so a pass that sees both readers end (two
        // ends that closed together) knows it before it decides whether a
        // writer needs a shutdown. A direction still copying stays pending
        // in `poll_finish`.
        let forward = a_to_b.poll_copy(cx, a.stream, b.stream, a.read_bytes, activity)?;
        let backward = b_to_a.poll_copy(cx, b.stream, a.stream, b.read_bytes, activity)?;
        let both_ended = forward.is_ready() && backward.is_ready();
        let forward = a_to_b.poll_finish(cx, b.stream, b.plain && both_ended)?;
        let backward = b_to_a.poll_finish(cx, a.stream, a.plain && both_ended)?;
        match (forward, backward) {
            (Poll::Ready(()), Poll::Ready(())) => Poll::Ready(Ok(())),
            _ => Poll::Pending,
        }
    })
    .await
}

impl Drop for Direction {
    /// A connection cut mid-copy (idle timeout, drain) returns its buffer.
    fn drop(&mut self) {
        self.release();
    }
}

/// Where one direction of the copy stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Reading and writing.
    Copying,
    /// The reader ended and every byte was written; the writer is still
    /// open, until the pump decides between a shutdown and a plain close.
    Ended,
    /// The writer's shutdown is under way.
    ShuttingDown,
    /// Finished.
    Done,
}

/// One direction: its stage and the bytes read but not yet written.
struct Direction {
    stage: Stage,
    /// Held only while `start < end`.
    buffer: Option<Box<[u8]>>,
    start: usize,
    end: usize,
    /// Bytes were written since the last flush.
    unflushed: bool,
}

impl Direction {
    fn new() -> Direction {
        Direction {
            stage: Stage::Copying,
            buffer: None,
            start: 0,
            end: 0,
            unflushed: false,
        }
    }

    /// Gives the buffer back to the pool.
    fn release(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            buffers::give(buffer);
        }
        self.start = 0;
        self.end = 0;
    }

    /// Moves bytes from `reader` to `writer` until one of them would block
    /// (pending) or the reader has ended and everything it sent is written
    /// (ready; also ready in every later stage).
    fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        reader: &mut R,
        writer: &mut W,
        read_bytes: &AtomicU64,
        activity: &Activity,
    ) -> Poll<io::Result<()>>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        loop {
            match self.stage {
                Stage::Ended | Stage::ShuttingDown | Stage::Done => return Poll::Ready(Ok(())),
                Stage::Copying if self.start < self.end => {
                    let Some(buffer) = self.buffer.as_deref() else {
                        unreachable!("bytes are waiting, so the buffer is held");
                    };
                    let n = ready!(
                        Pin::new(&mut *writer).poll_write(cx, &buffer[self.start..self.end])
                    )?;
                    if n == 0 {
                        return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                    }
                    self.start += n;
                    self.unflushed = true;
                    if self.start == self.end {
                        self.start = 0;
                        self.end = 0;
                    }
                }
                Stage::Copying => {
                    let buffer = self.buffer.get_or_insert_with(buffers::take);
                    let mut read = ReadBuf::new(buffer);
                    match Pin::new(&mut *reader).poll_read(cx, &mut read) {
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => {
                            // Nothing to hold bytes for until the reader
                            // has more: the buffer goes back to the pool.
                            self.release();
                            if self.unflushed {
                                ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                                self.unflushed = false;
                            }
                            return Poll::Pending;
                        }
                    }
                    let n = read.filled().len();
                    if n == 0 {
                        self.release();
                        self.stage = Stage::Ended;
                        continue;
                    }
                    read_bytes.fetch_add(n as u64, Relaxed);
                    activity.touch();
                    self.start = 0;
                    self.end = n;
                }
            }
        }
    }

    /// Ends a direction whose reader has ended: shuts its writer down, or,
    /// with `close_alone`, leaves it for the close that follows (the
    /// writer is plain TCP and its peer has ended too). A shutdown already
    /// under way is finished either way.
    fn poll_finish<W>(
        &mut self,
        cx: &mut Context<'_>,
        writer: &mut W,
        close_alone: bool,
    ) -> Poll<io::Result<()>>
    where
        W: AsyncWrite + Unpin,
    {
        loop {
            match self.stage {
                Stage::Copying => return Poll::Pending,
                Stage::Ended if close_alone => self.stage = Stage::Done,
                Stage::Ended => self.stage = Stage::ShuttingDown,
                Stage::ShuttingDown => {
                    ready!(Pin::new(&mut *writer).poll_shutdown(cx))?;
                    self.stage = Stage::Done;
                }
                Stage::Done => return Poll::Ready(Ok(())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};

    /// A duplex stream that counts the shutdowns asked of it.
    struct Counted {
        inner: DuplexStream,
        shutdowns: Arc<AtomicUsize>,
    }

    impl AsyncRead for Counted {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Counted {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.inner).poll_write(cx, buf)
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_flush(cx)
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.shutdowns.fetch_add(1, Relaxed);
            Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }

    fn counted(inner: DuplexStream) -> (Counted, Arc<AtomicUsize>) {
        let shutdowns = Arc::new(AtomicUsize::new(0));
        let stream = Counted {
            inner,
            shutdowns: Arc::clone(&shutdowns),
        };
        (stream, shutdowns)
    }

    /// Runs a pump between a "client" and a "backend" whose far ends the
    /// test drives: the client sends `request` and half-closes, the backend
    /// answers `response` after reading the whole request, then closes.
    /// Returns what each far end received, the byte counters, and the
    /// shutdowns asked of each near end.
    async fn exchange(
        request: Vec<u8>,
        response: Vec<u8>,
        plain: bool,
    ) -> (Vec<u8>, Vec<u8>, [u64; 2], [usize; 2]) {
        let (client_near, mut client_far) = duplex(4096);
        let (backend_near, mut backend_far) = duplex(4096);
        let (mut client_near, client_shutdowns) = counted(client_near);
        let (mut backend_near, backend_shutdowns) = counted(backend_near);
        let (from_client, from_backend) = (AtomicU64::new(0), AtomicU64::new(0));
        let activity = Activity::new();
        let client = async move {
            let (mut read, mut write) = tokio::io::split(&mut client_far);
            let sending = async {
                write.write_all(&request).await.expect("client write");
                write.shutdown().await.expect("client half-close");
            };
            let mut got = Vec::new();
            let receiving = read.read_to_end(&mut got);
            let ((), received) = tokio::join!(sending, receiving);
            received.expect("client read");
            got
        };
        let backend = async move {
            let mut got = Vec::new();
            backend_far
                .read_to_end(&mut got)
                .await
                .expect("backend read");
            backend_far
                .write_all(&response)
                .await
                .expect("backend write");
            backend_far.shutdown().await.expect("backend close");
            got
        };
        let (counters, activity) = ((&from_client, &from_backend), &activity);
        // The pump owns the near ends and drops them when it returns, as
        // the proxy does, so the far ends see their peers close.
        let pumping = async move {
            let result = pump(
                End {
                    stream: &mut client_near,
                    read_bytes: counters.0,
                    plain,
                },
                End {
                    stream: &mut backend_near,
                    read_bytes: counters.1,
                    plain,
                },
                activity,
            )
            .await;
            drop((client_near, backend_near));
            result
        };
        let (pumped, client_got, backend_got) =
            tokio::time::timeout(std::time::Duration::from_secs(10), async {
                tokio::join!(pumping, client, backend)
            })
            .await
            .expect("the exchange did not finish");
        pumped.expect("the pump failed");
        (
            client_got,
            backend_got,
            [from_client.load(Relaxed), from_backend.load(Relaxed)],
            [
                client_shutdowns.load(Relaxed),
                backend_shutdowns.load(Relaxed),
            ],
        )
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect()
    }

    #[tokio::test]
    async fn both_directions_arrive_whole_and_are_counted() {
        // Larger than a buffer and than the duplex pipes, so the copy must
        // wait on writes and reuse buffers mid-stream.
        let request = pattern(3 * buffers::SIZE + 17, 1);
        let response = pattern(5 * buffers::SIZE + 3, 2);
        let (client_got, backend_got, counted, _) =
            exchange(request.clone(), response.clone(), true).await;
        assert!(backend_got == request, "the request arrived changed");
        assert!(client_got == response, "the response arrived changed");
        assert_eq!(counted, [request.len() as u64, response.len() as u64]);
    }

    #[tokio::test]
    async fn the_last_plain_direction_closes_without_a_shutdown() {
        // The client half-closes first: the backend is shut down for it.
        // The backend's end then ends the exchange, and the client's
        // plain socket is closed without a shutdown of its own.
        let (_, _, _, shutdowns) = exchange(b"ping".to_vec(), b"pong".to_vec(), true).await;
        assert_eq!(shutdowns, [0, 1], "[client, backend] shutdowns");
    }

    #[tokio::test]
    async fn two_plain_ends_that_closed_together_get_no_shutdown() {
        // A backend that answers and closes, and a client that has already
        // read and closed: both FINs are in before the pump looks, so both
        // plain sockets are just closed, and the bytes still get across.
        let (client_near, mut client_far) = duplex(4096);
        let (backend_near, mut backend_far) = duplex(4096);
        let (mut client_near, client_shutdowns) = counted(client_near);
        let (mut backend_near, backend_shutdowns) = counted(backend_near);
        client_far.write_all(b"bye").await.expect("client write");
        client_far.shutdown().await.expect("client close");
        backend_far.write_all(b"done").await.expect("backend write");
        backend_far.shutdown().await.expect("backend close");
        let (from_client, from_backend, activity) =
            (AtomicU64::new(0), AtomicU64::new(0), Activity::new());
        let end = |stream, read_bytes| End {
            stream,
            read_bytes,
            plain: true,
        };
        pump(
            end(&mut client_near, &from_client),
            end(&mut backend_near, &from_backend),
            &activity,
        )
        .await
        .expect("the pump failed");
        drop((client_near, backend_near));
        let (mut client_got, mut backend_got) = (Vec::new(), Vec::new());
        client_far
            .read_to_end(&mut client_got)
            .await
            .expect("client read");
        backend_far
            .read_to_end(&mut backend_got)
            .await
            .expect("backend read");
        assert_eq!(
            (client_got.as_slice(), backend_got.as_slice()),
            (&b"done"[..], &b"bye"[..])
        );
        assert_eq!(
            [
                client_shutdowns.load(Relaxed),
                backend_shutdowns.load(Relaxed)
            ],
            [0, 0],
            "[client, backend] shutdowns"
        );
    }

    #[tokio::test]
    async fn a_tls_like_writer_is_always_shut_down() {
        let (_, _, _, shutdowns) = exchange(b"ping".to_vec(), b"pong".to_vec(), false).await;
        assert_eq!(shutdowns, [1, 1], "[client, backend] shutdowns");
    }

    #[tokio::test]
    async fn a_connection_waiting_for_bytes_holds_no_buffer() {
        let (mut near, _far) = duplex(64);
        let (mut other, _other_far) = duplex(64);
        let (bytes, activity) = (AtomicU64::new(0), Activity::new());
        let mut direction = Direction::new();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let poll = direction.poll_copy(&mut cx, &mut near, &mut other, &bytes, &activity);
        assert!(poll.is_pending());
        assert!(
            direction.buffer.is_none(),
            "an idle direction kept its buffer"
        );
    }
}
