//! The World behind the engine boundary.

use super::World;
use crate::engine::{
    Advance, DrawHashes, Engine, LinkStats, MakeEngine, ObjectiveStatus, SeriesLog, ServerRow,
    Snapshot, TimeAverages,
};
use crate::model::SimTime;
use crate::spec::{Command, Lab, Origin};

impl World {
    /// The simulation of `lab` with `seed`, as an engine.
    pub fn engine(lab: &Lab, seed: u64) -> Box<dyn Engine> {
        Box::new(World::new(lab, seed))
    }

    /// What drivers call to build simulations.
    pub fn maker() -> MakeEngine {
        std::sync::Arc::new(World::engine)
    }
}

impl Engine for World {
    fn now(&self) -> SimTime {
        self.now
    }

    fn explained_picks(&self) -> Vec<String> {
        self.first_picks()
    }

    fn time_averages(&self) -> Option<TimeAverages> {
        Some(World::time_averages(self))
    }

    fn draw_hashes(&self) -> Option<DrawHashes> {
        Some(World::draw_hashes(self))
    }

    fn series_log(&self) -> Option<SeriesLog> {
        World::series_log(self).cloned()
    }

    fn seed(&self) -> u64 {
        self.seed
    }

    fn events_processed(&self) -> u64 {
        self.events
    }

    fn apply(&mut self, command: Command, origin: Origin) {
        self.apply_from(command, origin);
    }

    fn schedule(&mut self, at: SimTime, command: Command, origin: Origin) {
        self.schedule_from(at, command, origin);
    }

    fn advance(&mut self, until: SimTime, max_events: u64) -> Advance {
        World::advance(self, until, max_events)
    }

    fn stalled(&self) -> Option<SimTime> {
        World::stalled(self)
    }

    fn run_to_completion(&mut self, limit: SimTime) -> bool {
        World::run_to_completion(self, limit)
    }

    fn workload_finished(&self) -> bool {
        World::workload_finished(self)
    }

    fn workload_is_finite(&self) -> bool {
        World::workload_is_finite(self)
    }

    fn run_over(&self) -> bool {
        World::run_over(self)
    }

    fn note(&mut self, text: String) {
        World::note(self, text);
    }

    fn snapshot(&self) -> Snapshot {
        World::snapshot(self)
    }

    fn server_rows(&self) -> Vec<ServerRow> {
        World::server_rows(self)
    }

    fn link_stats(&self) -> Vec<LinkStats> {
        World::link_stats(self)
    }

    fn objective_statuses(&self, run_over: bool) -> Vec<ObjectiveStatus> {
        World::objective_statuses(self, run_over)
    }

    fn fork(&self) -> Option<Box<dyn Engine>> {
        Some(Box::new(self.clone()))
    }
}
