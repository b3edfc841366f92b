//! Terminal input for the dashboard: every byte the terminal has delivered
//! is turned into events before the loop waits on the terminal again.
//!
//! On Unix the dashboard reads standard input itself instead of through
//! crossterm's `EventStream`. crossterm 0.29 registers the terminal with an
//! edge-triggered poll, reads at most 1 KiB per wake-up and returns at the
//! first event, so the rest of a larger burst (a paste, a key held down on
//! a slow link) stays unread until the next key makes a new edge, and a
//! burst of several KiB never drains at all. Here a wake-up reads on until
//! the terminal has nothing left (checked with a level-triggered `poll`),
//! and the decoder turns the bytes into the same crossterm `Event`s the key
//! table already understands. Elsewhere crossterm's stream is used as is.

use crossterm::event::Event;
use std::collections::VecDeque;
use std::io;

/// Events decoded but not yet handled, and where more come from.
pub struct Input {
    events: VecDeque<Event>,
    source: Source,
}

impl Input {
    /// Starts reading the terminal on standard input; needs a tokio
    /// runtime with I/O and signals enabled.
    pub fn new() -> io::Result<Input> {
        Ok(Input {
            events: VecDeque::new(),
            source: Source::new()?,
        })
    }

    /// Returns at once while decoded events wait; otherwise waits for the
    /// terminal to deliver bytes (or a resize) and decodes them. False once
    /// the terminal is gone and every event has been taken.
    ///
    /// Cancel-safe: the only await is the wait for readiness, and bytes
    /// read are decoded before the next await.
    pub async fn fill(&mut self) -> io::Result<bool> {
        if self.events.is_empty() {
            self.source.fill(&mut self.events).await?;
        }
        Ok(!self.events.is_empty() || !self.source.closed())
    }

    /// The oldest decoded event.
    pub fn next(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

#[cfg(unix)]
use unix::Source;

#[cfg(unix)]
mod unix {
    use super::decode::Decoder;
    use crossterm::event::Event;
    use std::collections::VecDeque;
    use std::io;
    use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;
    use tokio::signal::unix::{Signal, SignalKind, signal};

    /// Most bytes read in one `fill`: a terminal that never stops sending
    /// still lets the loop handle what it has and draw, and bounds how many
    /// events wait in memory.
    const READ_CAP: usize = 64 * 1024;

    /// What one round of reading found.
    enum Drained {
        /// The terminal holds nothing more for now.
        Empty,
        /// The read cap was reached with bytes still waiting.
        More,
        /// End of input: the terminal hung up.
        Closed,
    }

    pub(super) struct Source {
        /// A duplicate of standard input (the same open terminal), owned
        /// here so that it stays open while it is registered.
        tty: AsyncFd<OwnedFd>,
        winch: Signal,
        decoder: Decoder,
        buf: Box<[u8]>,
        closed: bool,
    }

    impl Source {
        pub(super) fn new() -> io::Result<Source> {
            let fd = io::stdin().as_fd().try_clone_to_owned()?;
            // SAFETY: the AsyncFd owns `fd`, which stays open and names
            // the same terminal until the AsyncFd is dropped.
            let tty = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
                .map_err(io::Error::from)?;
            Ok(Source {
                tty,
                winch: signal(SignalKind::window_change())?,
                decoder: Decoder::default(),
                buf: vec![0; 16 * 1024].into_boxed_slice(),
                closed: false,
            })
        }

        pub(super) fn closed(&self) -> bool {
            self.closed
        }

        pub(super) async fn fill(&mut self, events: &mut VecDeque<Event>) -> io::Result<()> {
            if self.closed {
                return Ok(());
            }
            tokio::select! {
                guard = self.tty.readable() => {
                    let mut guard = guard?;
                    let fd = guard.get_inner().as_raw_fd();
                    match read_available(fd, &mut self.buf, &mut self.decoder, events)? {
                        // Only now may the loop wait on the terminal again;
                        // clear_ready keeps the readiness if bytes arrived
                        // since it was reported, so none are left behind.
                        Drained::Empty => guard.clear_ready(),
                        // Still ready: the next fill reads on at once.
                        Drained::More => {}
                        Drained::Closed => self.closed = true,
                    }
                }
                _ = self.winch.recv() => {
                    let (width, height) = crossterm::terminal::size()?;
                    events.push_back(Event::Resize(width, height));
                }
            }
            Ok(())
        }
    }

    /// Reads the terminal `fd` until it holds nothing more (or `READ_CAP`
    /// bytes were read), decoding as it goes.
    fn read_available(
        fd: RawFd,
        buf: &mut [u8],
        decoder: &mut Decoder,
        events: &mut VecDeque<Event>,
    ) -> io::Result<Drained> {
        let mut total = 0;
        while total < READ_CAP {
            // Level-triggered, unlike the runtime's edge-triggered
            // readiness: says whether bytes wait right now. Reading only
            // then also keeps a blocking descriptor from blocking.
            if !has_input(fd)? {
                decoder.idle(events);
                return Ok(Drained::Empty);
            }
            // SAFETY: `buf` is valid for writes of its whole length.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    io::ErrorKind::WouldBlock => {
                        decoder.idle(events);
                        return Ok(Drained::Empty);
                    }
                    // A pty whose other side closed says EIO until the
                    // hang-up completes: the terminal is gone, not broken.
                    _ if e.raw_os_error() == Some(libc::EIO) => {
                        decoder.idle(events);
                        return Ok(Drained::Closed);
                    }
                    _ => return Err(e),
                }
            }
            let n = n.unsigned_abs();
            if n == 0 {
                decoder.idle(events);
                return Ok(Drained::Closed);
            }
            decoder.push(&buf[..n], events);
            total += n;
        }
        Ok(Drained::More)
    }

    /// True if a read of `fd` would not block: bytes wait, or the terminal
    /// hung up (the read then says so).
    fn has_input(fd: RawFd) -> io::Result<bool> {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        loop {
            // SAFETY: one valid pollfd for the duration of the call.
            let n = unsafe { libc::poll(&mut p, 1, 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if p.revents & libc::POLLNVAL != 0 {
                return Err(io::Error::from_raw_os_error(libc::EBADF));
            }
            return Ok(n > 0 && p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0);
        }
    }
}

#[cfg(not(unix))]
use other::Source;

/// Elsewhere crossterm's reader does not have the edge-triggered problem.
#[cfg(not(unix))]
mod other {
    use crossterm::event::{Event, EventStream};
    use futures_util::StreamExt;
    use std::collections::VecDeque;
    use std::io;

    pub(super) struct Source {
        stream: EventStream,
        closed: bool,
    }

    impl Source {
        pub(super) fn new() -> io::Result<Source> {
            Ok(Source {
                stream: EventStream::new(),
                closed: false,
            })
        }

        pub(super) fn closed(&self) -> bool {
            self.closed
        }

        pub(super) async fn fill(&mut self, events: &mut VecDeque<Event>) -> io::Result<()> {
            match self.stream.next().await {
                Some(event) => events.push_back(event?),
                None => self.closed = true,
            }
            Ok(())
        }
    }
}

#[cfg(unix)]
mod decode;
