//! The backends in rotation: every change of what the algorithm sees of a
//! backend's eligibility or weight goes through here, so the selector is
//! told (its hash tables rebuilt) and, under a hashing algorithm, the
//! disruption is measured.

use super::Balancer;
use crate::policy::disruption::{self, Moved};
use crate::policy::{BackendView, Selector};
use crate::spec::Algorithm;

/// What a change of the backends in rotation did to the mapping of a
/// hashing algorithm: the share of a standard sample of flow keys that now
/// map to another backend, and how many of the open flows would.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Disruption {
    /// The algorithm whose mapping moved.
    pub algorithm: Algorithm,
    /// Of the standard sample of flow keys.
    pub keys: Moved,
    /// Of the flows in the conn table.
    pub flows: Moved,
}

/// Flow keys in the standard sample the disruption meter maps.
pub const DISRUPTION_SAMPLE: usize = 10_000;

impl Balancer {
    /// The backends in rotation before a change the caller makes itself
    /// (adding a backend), if the algorithm's disruption is measured: pass
    /// it to [`Balancer::rotation_changed`] after the change.
    pub fn rotation_before_change(&self) -> Option<Vec<BackendView>> {
        self.measures_disruption().then(|| self.views.clone())
    }

    /// Starts or stops draining backend `b`.
    pub fn set_draining(&mut self, b: usize, on: bool) {
        self.change_view(b, |v| v.draining = on);
    }

    /// Sets backend `b`'s weight.
    pub fn set_weight(&mut self, b: usize, weight: u32) {
        self.change_view(b, |v| v.weight = weight);
    }

    /// Takes backend `b` out of the pool for good.
    pub fn remove_backend(&mut self, b: usize) {
        self.backends[b].removed = true;
        self.refresh_health(b);
    }

    /// Backend `b` is healthy in the algorithm's eyes when its health
    /// checks say up, it is in the pool, and it is not ejected.
    pub(super) fn refresh_health(&mut self, b: usize) {
        let be = &self.backends[b];
        let healthy = be.health.is_up() && !be.removed && !self.resilience.is_ejected(b);
        self.change_view(b, |v| v.healthy = healthy);
    }

    /// Switches algorithm, starting its state afresh.
    pub fn set_algorithm(&mut self, algorithm: Algorithm) {
        self.selector.set_algorithm(algorithm);
    }

    /// What the last change of the backends in rotation did to a hashing
    /// algorithm's mapping, taken once.
    pub fn take_disruption(&mut self) -> Option<Disruption> {
        self.disruption.take()
    }

    /// Changes what the algorithm sees of backend `b`; if its place in
    /// rotation (eligibility or weight) changed, the selector is told and
    /// the disruption measured.
    pub(super) fn change_view(&mut self, b: usize, change: impl FnOnce(&mut BackendView)) {
        let old = self.views[b];
        change(&mut self.views[b]);
        let new = self.views[b];
        if old.eligible() == new.eligible() && old.weight == new.weight {
            return;
        }
        let before = self.measures_disruption().then(|| {
            let mut before = self.views.clone();
            before[b] = old;
            before
        });
        self.rotation_changed(before);
    }

    /// Only algorithms that hash flows have a mapping worth measuring.
    pub(super) fn measures_disruption(&self) -> bool {
        self.selector.algorithm().hashes_flows()
    }

    /// The backends in rotation changed (from `before`, when measured).
    pub fn rotation_changed(&mut self, before: Option<Vec<BackendView>>) {
        self.selector.membership_changed();
        let Some(before) = before else { return };
        let algorithm = self.selector.algorithm();
        let keys = disruption::moved_share(
            algorithm,
            &before,
            &self.views,
            &disruption::sample_keys(DISRUPTION_SAMPLE),
        );
        // Open flows are checked against where they are, with a selector
        // of their own: the real one keeps its state for real picks.
        let mut after = Selector::new(algorithm);
        let mut flows = Moved::default();
        for e in self.table.live_entries() {
            flows.total += 1;
            if after.pick(&self.views, &e.client, 0) != Ok(e.backend as usize) {
                flows.moved += 1;
            }
        }
        self.disruption = Some(Disruption {
            algorithm,
            keys,
            flows,
        });
    }
}
