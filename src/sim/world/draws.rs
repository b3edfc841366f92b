//! What the World drew for clients and servers, hashed: the evidence that
//! two runs of one lab and seed under different algorithms got the same
//! arrivals and the same service times (`lblab compare` prints it).
//!
//! Each draw is a (key, value) pair: the key names what was drawn (the
//! n-th open arrival, client i's k-th connection, the segment with this
//! ISN and sequence number), the value is the draw (an arrival time, a
//! think or start delay, a service time in nanoseconds). The hash adds up
//! a mix of every pair, so it does not depend on the order the draws
//! happened in, which the algorithm changes. When asked, the pairs are
//! also kept, so compare can check the draws both runs made one by one
//! (a closed client that finishes sooner starts more connections, and a
//! run's end cuts different work short).

use super::World;
use crate::engine::{DrawHash, DrawHashes, SeriesLog};

/// Pairs kept per kind at most: about 64 MB each, beyond what the
/// built-in labs draw; past it the list stops and says so.
pub(in crate::sim) const MAX_KEPT: usize = 4_000_000;

/// The running hashes, and the pairs when kept.
#[derive(Clone, Debug, Default)]
pub(in crate::sim) struct Draws {
    pub arrivals: DrawHash,
    pub service: DrawHash,
    kept: Option<Kept>,
}

#[derive(Clone, Debug, Default)]
struct Kept {
    arrivals: Vec<(u64, u64)>,
    service: Vec<(u64, u64)>,
    full: bool,
}

impl Draws {
    /// Keeps every pair from now on, for [`Draws::hashes`].
    pub fn keep(&mut self) {
        self.kept.get_or_insert_with(Kept::default);
    }

    /// A client's arrival: `value` is its time, or the delay drawn for it.
    #[inline]
    pub fn arrival(&mut self, key: u64, value: u64) {
        self.arrivals.add(key, value);
        if let Some(k) = &mut self.kept {
            k.full |= k.arrivals.len() >= MAX_KEPT;
            if !k.full {
                k.arrivals.push((key, value));
            }
        }
    }

    /// A segment's service time, keyed by its client's ISN and its own
    /// sequence number.
    #[inline]
    pub fn service(&mut self, irs: u32, seq: u32, nanos: u64) {
        let key = (u64::from(irs) << 32) | u64::from(seq);
        self.service.add(key, nanos);
        if let Some(k) = &mut self.kept {
            k.full |= k.service.len() >= MAX_KEPT;
            if !k.full {
                k.service.push((key, nanos));
            }
        }
    }

    /// The hashes, with the pairs if they were kept (and all fit).
    pub fn hashes(&self) -> DrawHashes {
        let kept = self.kept.as_ref().filter(|k| !k.full);
        DrawHashes {
            arrivals: self.arrivals,
            service: self.service,
            arrival_pairs: kept.map(|k| k.arrivals.clone()),
            service_pairs: kept.map(|k| k.service.clone()),
        }
    }
}

impl World {
    /// Hashes of the clients' arrivals and every sampled service time.
    pub fn draw_hashes(&self) -> DrawHashes {
        self.draws.hashes()
    }

    /// Keeps a row of every per-second series for every second from now
    /// on (`lblab run --series`); the dashboard's series keep only the
    /// newest two minutes.
    pub fn keep_series(&mut self) {
        let backends = self.servers.iter().map(|s| s.name.clone()).collect();
        self.series_log.get_or_insert(SeriesLog {
            backends,
            ..SeriesLog::default()
        });
    }

    /// The rows kept since [`World::keep_series`].
    pub fn series_log(&self) -> Option<&SeriesLog> {
        self.series_log.as_ref()
    }
}
