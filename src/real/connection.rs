//! One real client connection running the lab's workload: connect,
//! segments each answered by an acknowledgement, half-close, wait for the
//! server's close. The lab's TCP timers become the connection's deadlines:
//! a handshake may take the SYN timeout once per transmission, a segment
//! or the close the segment timeout once per transmission, as the
//! simulated client's retransmissions would allow.

use super::book::{Book, Phase};
use super::link::{LinkDelay, Pacer};
use super::wire::{self, ACK};
use crate::model::SimDuration;
use crate::spec::{FailReason, TcpSpec};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;

/// What one connection sends.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The size of each segment, in order.
    pub segments: Vec<u64>,
    /// The pause after each acknowledgement but the last.
    pub gaps: Vec<Duration>,
}

/// The deadlines a connection keeps, from the lab's client TCP timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// For the handshake.
    pub connect: Duration,
    /// For each acknowledgement, and for the server's close.
    pub answer: Duration,
}

impl Deadlines {
    /// Every transmission's timeout, one after another.
    pub fn of(tcp: &TcpSpec) -> Deadlines {
        let tries = u64::from(tcp.max_retransmissions) + 1;
        let times =
            |d: crate::spec::Dur| Duration::from_nanos(d.get().as_nanos().saturating_mul(tries));
        Deadlines {
            connect: times(tcp.syn_timeout),
            answer: times(tcp.segment_timeout),
        }
    }
}

fn sim(d: Duration) -> SimDuration {
    SimDuration::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Connects from `source` (a loopback address) to `target`.
pub async fn connect(source: IpAddr, target: SocketAddr) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    // Many clients share few addresses when the lab is large; the kernel
    // picks a free port for each.
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(target).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Why a connection ended badly, from an I/O error.
fn reason_of(e: &io::Error) -> FailReason {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => FailReason::Refused,
        _ => FailReason::Reset,
    }
}

/// Keeps a connection's phase in the book and books its end, however it
/// ends: dropped mid-way (its client was killed), it fails as `killed`.
struct Books<'a> {
    book: &'a Book,
    phase: Phase,
    ended: bool,
}

impl Books<'_> {
    fn enter(&mut self, to: Phase) {
        self.book.enter(Some(self.phase), Some(to));
        self.phase = to;
    }

    fn end(&mut self, outcome: Result<(), FailReason>, started: Instant) {
        self.ended = true;
        self.book.enter(Some(self.phase), None);
        match outcome {
            Ok(()) => self.book.complete(sim(started.elapsed())),
            Err(why) => self.book.fail(why),
        }
    }
}

impl Drop for Books<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.book.enter(Some(self.phase), None);
            self.book.fail(FailReason::Killed);
        }
    }
}

/// How a task emulates time: the link's delay, and its pacer for every
/// sleep.
pub struct Timing<'a> {
    /// The one-way delay before each write.
    pub delay: &'a LinkDelay,
    /// The task's sleeps, kept to the lab's times.
    pub pacer: &'a mut Pacer,
}

/// Runs one connection to its end and books it; true if it completed.
pub async fn run(
    book: &Book,
    source: IpAddr,
    target: SocketAddr,
    plan: &Plan,
    deadlines: Deadlines,
    timing: &mut Timing<'_>,
) -> bool {
    book.attempt();
    book.enter(None, Some(Phase::SynSent));
    let mut books = Books {
        book,
        phase: Phase::SynSent,
        ended: false,
    };
    let started = Instant::now();
    let outcome = exchange(&mut books, source, target, plan, deadlines, timing, started).await;
    let completed = outcome.is_ok();
    books.end(outcome, started);
    completed
}

async fn exchange(
    books: &mut Books<'_>,
    source: IpAddr,
    target: SocketAddr,
    plan: &Plan,
    deadlines: Deadlines,
    timing: &mut Timing<'_>,
    started: Instant,
) -> Result<(), FailReason> {
    // The handshake crosses the path there and back, as in the simulation.
    timing.delay.wait_round_trip(timing.pacer).await;
    let mut stream = match timeout(deadlines.connect, connect(source, target)).await {
        Err(_) => return Err(FailReason::SynTimeout),
        Ok(Err(e)) => return Err(reason_of(&e)),
        Ok(Ok(s)) => s,
    };
    books.enter(Phase::Established);
    books.book.establish(sim(started.elapsed()));
    let failed = Err;
    for (i, &size) in plan.segments.iter().enumerate() {
        // The segment's latency starts as it enters the link, as in the
        // simulation: the link's delay is part of it.
        let sent = Instant::now();
        timing.delay.wait(timing.pacer).await;
        if let Err(e) = wire::write_segment(&mut stream, size).await {
            return failed(reason_of(&e));
        }
        let mut ack = [0u8; 1];
        match timeout(deadlines.answer, stream.read(&mut ack)).await {
            Err(_) => return failed(FailReason::DataTimeout),
            // Closed before answering: the proxy found no backend, or the
            // server died under the connection.
            Ok(Ok(0)) | Ok(Err(_)) => return failed(FailReason::Reset),
            Ok(Ok(_)) if ack[0] != ACK => return failed(FailReason::Reset),
            Ok(Ok(_)) => books.book.segment(sim(sent.elapsed())),
        }
        if let Some(gap) = plan.gaps.get(i).filter(|g| !g.is_zero()) {
            timing.pacer.sleep(*gap).await;
        }
    }
    if stream.shutdown().await.is_err() {
        return failed(FailReason::Reset);
    }
    books.enter(Phase::FinWait);
    let mut rest = [0u8; 16];
    loop {
        match timeout(deadlines.answer, stream.read(&mut rest)).await {
            Err(_) => return Err(FailReason::FinTimeout),
            Ok(Ok(0)) => return Ok(()),
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return Err(FailReason::Reset),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Dur;

    #[test]
    fn deadlines_allow_every_transmission_its_timeout() {
        let tcp = TcpSpec {
            syn_timeout: Dur::from_millis(500),
            segment_timeout: Dur::from_millis(700),
            max_retransmissions: 3,
            ..TcpSpec::default()
        };
        let d = Deadlines::of(&tcp);
        assert_eq!(d.connect, Duration::from_millis(2000));
        assert_eq!(d.answer, Duration::from_millis(2800));
    }
}
