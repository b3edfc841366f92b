//! The editable forms behind the flood popup and the timeouts editor. They
//! keep their own copy of the values while open, so quick key presses build
//! on each other instead of on a frame that has not caught up yet.

use crate::engine::Settings;
use crate::model::SimDuration;
use crate::spec::{
    AttackKind, Command, Dur, FloodSpec, MAX_FLOOD_SOURCES, OnBackendDown, Positive, Rate,
    RetransmitMode, Timeout,
};

/// The flood popup: rate, spoofed sources and duration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FloodForm {
    /// Field under the cursor (0 rate, 1 sources, 2 duration).
    pub cursor: usize,
    /// SYNs per second.
    pub rate: u64,
    /// Spoofed source addresses.
    pub sources: u64,
    /// Seconds; 0 runs until stopped with `f`.
    pub seconds: u64,
    /// What the attack does (the fourth field).
    pub kind: AttackKind,
    /// Digits typed into the field under the cursor since it was reached:
    /// the first digit replaces the value shown, later ones append.
    typed: bool,
}

/// Seconds the flood's duration moves per arrow key.
const DURATION_STEP_SECS: u64 = 5;

/// Largest value typed into any flood field.
const FLOOD_MAX: u64 = crate::spec::limits::MAX_FLOOD_RATE as u64;

impl Default for FloodForm {
    /// 5000 SYN/s from 1000 sources for 30 s: enough to fill the default
    /// half-open limits of ten servers many times over.
    fn default() -> Self {
        FloodForm {
            cursor: 0,
            rate: 5000,
            sources: 1000,
            seconds: 30,
            kind: AttackKind::SpoofedSyn,
            typed: false,
        }
    }
}

impl FloodForm {
    /// Field names, in cursor order.
    pub const FIELDS: [&'static str; 4] = [
        "rate (SYN/s)",
        "spoofed sources",
        "duration (s, 0 = until f)",
        "kind",
    ];

    /// The largest value the field under the cursor takes.
    fn limit(&self) -> u64 {
        if self.cursor == 1 {
            u64::from(MAX_FLOOD_SOURCES)
        } else {
            FLOOD_MAX
        }
    }

    fn value(&mut self) -> &mut u64 {
        match self.cursor {
            0 => &mut self.rate,
            1 => &mut self.sources,
            _ => &mut self.seconds,
        }
    }

    /// The values in field order.
    pub fn values(&self) -> [u64; 3] {
        [self.rate, self.sources, self.seconds]
    }

    /// Moves to the next (`down`) or previous field.
    pub fn move_cursor<T>(&mut self, down: bool) -> Vec<T> {
        let n = FloodForm::FIELDS.len();
        self.typed = false;
        self.cursor = if down {
            (self.cursor + 1) % n
        } else {
            (self.cursor + n - 1) % n
        };
        Vec::new()
    }

    /// Doubles or halves the field (duration moves by 5 s).
    pub fn adjust<T>(&mut self, up: bool) -> Vec<T> {
        if self.cursor == 3 {
            let kinds = AttackKind::ALL;
            let i = kinds.iter().position(|k| *k == self.kind).unwrap_or(0);
            let next = if up { i + 1 } else { i + kinds.len() - 1 };
            self.kind = kinds[next % kinds.len()];
            return Vec::new();
        }
        self.typed = false;
        let is_duration = self.cursor == 2;
        let limit = self.limit();
        let v = self.value();
        *v = match (is_duration, up) {
            (true, true) => (*v + DURATION_STEP_SECS).min(limit),
            (true, false) => v.saturating_sub(DURATION_STEP_SECS),
            (false, true) => (*v * 2).clamp(1, limit),
            (false, false) => (*v / 2).max(1),
        };
        Vec::new()
    }

    /// A typed digit: the first on a field replaces the value shown, as in
    /// any form; later ones append. A digit that would pass the field's
    /// limit is refused with what the limit is, never capped silently.
    pub fn digit<T>(&mut self, d: u8) -> Result<Vec<T>, String> {
        if self.cursor == 3 {
            return Ok(Vec::new());
        }
        let limit = self.limit();
        let fresh = !self.typed;
        let v = self.value();
        let next = if fresh {
            u64::from(d)
        } else {
            v.saturating_mul(10).saturating_add(u64::from(d))
        };
        if next > limit {
            return Err(format!(
                "{} is at most {limit}",
                FloodForm::FIELDS[self.cursor]
            ));
        }
        *v = next;
        self.typed = true;
        Ok(Vec::new())
    }

    /// Removes the last digit (and goes on typing into what is left).
    pub fn backspace<T>(&mut self) -> Vec<T> {
        if self.cursor == 3 {
            return Vec::new();
        }
        self.typed = true;
        let v = self.value();
        *v /= 10;
        Vec::new()
    }

    /// The flood to start, or what is wrong with the form.
    pub fn spec(&self) -> Result<FloodSpec, String> {
        if self.rate == 0 {
            return Err("a flood needs a rate of at least 1 SYN/s".into());
        }
        let sources = u32::try_from(self.sources)
            .ok()
            .and_then(Positive::new)
            .ok_or("a flood needs at least 1 spoofed source")?;
        Ok(FloodSpec {
            kind: self.kind,
            rate: Rate::new_const(self.rate as f64),
            sources,
            start: Dur::ZERO,
            duration: (self.seconds > 0).then(|| Dur::from_secs(self.seconds)),
        })
    }
}

/// A row of the timeouts editor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// A timeout.
    Timeout(Timeout),
    /// Client retransmissions before failure.
    Retries,
    /// Fixed or RFC 6298 timeouts.
    RetransmitMode,
    /// Health rise.
    Rise,
    /// Health fall.
    Fall,
    /// The per-backend half-open admission limit.
    MaxHalfOpen,
    /// Reset or abandon connections of a dead backend.
    OnBackendDown,
}

impl Field {
    /// Every row, top to bottom.
    pub const ALL: [Field; 12] = [
        Field::Timeout(Timeout::Syn),
        Field::Timeout(Timeout::Segment),
        Field::Retries,
        Field::RetransmitMode,
        Field::Timeout(Timeout::HalfOpenIdle),
        Field::Timeout(Timeout::EstablishedIdle),
        Field::Timeout(Timeout::HealthInterval),
        Field::Timeout(Timeout::HealthTimeout),
        Field::Rise,
        Field::Fall,
        Field::MaxHalfOpen,
        Field::OnBackendDown,
    ];

    /// The row's label.
    pub fn label(self) -> &'static str {
        match self {
            Field::Timeout(t) => t.name(),
            Field::Retries => "max retransmissions",
            Field::RetransmitMode => "retransmit timeouts",
            Field::Rise => "health rise",
            Field::Fall => "health fall",
            Field::MaxHalfOpen => "max half-open per backend",
            Field::OnBackendDown => "on backend down",
        }
    }
}

/// Highest retransmission count the editor raises to (a lab may set more;
/// the editor then only lowers it).
const MAX_RETRIES: u32 = 15;

/// Highest rise or fall the editor raises to.
const MAX_RISE_FALL: u32 = 10;

/// Durations the editor steps through.
const DURATIONS_MS: [u64; 21] = [
    10, 20, 50, 100, 200, 250, 300, 500, 700, 1_000, 1_500, 2_000, 3_000, 5_000, 10_000, 15_000,
    20_000, 30_000, 60_000, 120_000, 300_000,
];

/// Half-open limits the editor steps through.
const HALF_OPEN: [u32; 14] = [
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16_384, 65_536,
];

fn step_duration(d: SimDuration, up: bool) -> SimDuration {
    let ms = d.as_nanos() / 1_000_000;
    let next = if up {
        DURATIONS_MS.iter().copied().find(|&v| v > ms).unwrap_or(ms)
    } else {
        DURATIONS_MS
            .iter()
            .copied()
            .rev()
            .find(|&v| v < ms)
            .unwrap_or(ms)
    };
    SimDuration::from_millis(next.max(1))
}

fn step_ladder(v: u32, up: bool) -> u32 {
    if up {
        HALF_OPEN.iter().copied().find(|&x| x > v).unwrap_or(v)
    } else {
        HALF_OPEN
            .iter()
            .copied()
            .rev()
            .find(|&x| x < v)
            .unwrap_or(v)
    }
}

/// The timeouts editor.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeoutsForm {
    /// Row under the cursor.
    pub cursor: usize,
    /// The values being edited.
    pub settings: Settings,
}

impl TimeoutsForm {
    /// An editor starting from the World's settings.
    pub fn from_settings(settings: &Settings) -> TimeoutsForm {
        TimeoutsForm {
            cursor: 0,
            settings: settings.clone(),
        }
    }

    /// Moves to the next (`down`) or previous row.
    pub fn move_cursor<T>(&mut self, down: bool) -> Vec<T> {
        let n = Field::ALL.len();
        self.cursor = if down {
            (self.cursor + 1) % n
        } else {
            (self.cursor + n - 1) % n
        };
        Vec::new()
    }

    fn timeout(&self, t: Timeout) -> SimDuration {
        self.settings.timeout(t)
    }

    /// The value of `field` as the editor shows it.
    pub fn show(&self, field: Field) -> String {
        let s = &self.settings;
        match field {
            Field::Timeout(t) => self.timeout(t).to_string(),
            Field::Retries => s.max_retransmissions.to_string(),
            Field::RetransmitMode => match s.retransmit {
                RetransmitMode::Fixed => "fixed".into(),
                RetransmitMode::Rfc6298 { .. } => "RFC 6298 backoff".into(),
            },
            Field::Rise => s.health.rise.get().to_string(),
            Field::Fall => s.health.fall.get().to_string(),
            Field::MaxHalfOpen => s.max_half_open.to_string(),
            Field::OnBackendDown => match s.on_backend_down {
                OnBackendDown::Timeout => "leave to time out".into(),
                OnBackendDown::Reset => "reset clients".into(),
            },
        }
    }

    /// Moves the value under the cursor one step; returns the Command that
    /// makes the change, if it changed.
    pub fn adjust(&mut self, up: bool) -> Option<Command> {
        let field = Field::ALL[self.cursor];
        let s = &mut self.settings;
        let cmd = match field {
            Field::Timeout(t) => {
                let d = s.timeout(t);
                let next = step_duration(d, up);
                if next == d {
                    return None;
                }
                s.set_timeout(t, next);
                Command::SetTimeout(t, Dur(next))
            }
            Field::Retries => {
                let next = match up {
                    true if s.max_retransmissions >= MAX_RETRIES => return None,
                    true => s.max_retransmissions + 1,
                    false => s.max_retransmissions.saturating_sub(1),
                };
                if next == s.max_retransmissions {
                    return None;
                }
                s.max_retransmissions = next;
                Command::SetMaxRetransmissions(next)
            }
            Field::RetransmitMode => {
                s.retransmit = match s.retransmit {
                    RetransmitMode::Fixed => RetransmitMode::Rfc6298 {
                        min_rto: Dur::from_millis(200),
                        max_rto: Dur::from_secs(60),
                    },
                    RetransmitMode::Rfc6298 { .. } => RetransmitMode::Fixed,
                };
                Command::SetRetransmitMode(s.retransmit)
            }
            Field::Rise | Field::Fall => {
                let v = if field == Field::Rise {
                    &mut s.health.rise
                } else {
                    &mut s.health.fall
                };
                let next = match up {
                    true if v.get() >= MAX_RISE_FALL => return None,
                    true => v.get() + 1,
                    false => v.get().saturating_sub(1).max(1),
                };
                if next == v.get() {
                    return None;
                }
                *v = Positive::new_const(next);
                Command::SetHealth(s.health)
            }
            Field::MaxHalfOpen => {
                let next = step_ladder(s.max_half_open, up);
                if next == s.max_half_open {
                    return None;
                }
                s.max_half_open = next;
                Command::SetMaxHalfOpen(next)
            }
            Field::OnBackendDown => {
                s.on_backend_down = match s.on_backend_down {
                    OnBackendDown::Timeout => OnBackendDown::Reset,
                    OnBackendDown::Reset => OnBackendDown::Timeout,
                };
                Command::SetOnBackendDown(s.on_backend_down)
            }
        };
        Some(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_never_goes_below_a_floor_the_world_would_refuse() {
        use crate::spec::limits::min_timeout;
        let lowest = SimDuration::from_millis(DURATIONS_MS[0]);
        for t in [
            Timeout::Syn,
            Timeout::HealthInterval,
            Timeout::HealthTimeout,
        ] {
            assert!(
                lowest >= min_timeout(t),
                "{t:?}: {lowest:?} < {:?}",
                min_timeout(t)
            );
        }
    }

    #[test]
    fn durations_step_along_the_ladder_and_stop_at_its_ends() {
        assert_eq!(
            step_duration(SimDuration::from_millis(500), true),
            SimDuration::from_millis(700)
        );
        assert_eq!(
            step_duration(SimDuration::from_millis(500), false),
            SimDuration::from_millis(300)
        );
        assert_eq!(
            step_duration(SimDuration::from_millis(600), true),
            SimDuration::from_millis(700)
        );
        assert_eq!(
            step_duration(SimDuration::from_millis(10), false),
            SimDuration::from_millis(10)
        );
        assert_eq!(
            step_duration(SimDuration::from_secs(300), true),
            SimDuration::from_secs(300)
        );
    }

    #[test]
    fn flood_form_edits_by_digits_steps_and_backspace() {
        let mut f = FloodForm::default();
        f.backspace::<()>();
        f.backspace::<()>();
        let _ = f.digit::<()>(7);
        assert_eq!(f.rate, 507);
        f.adjust::<()>(true);
        assert_eq!(f.rate, 1014);
        f.move_cursor::<()>(false);
        assert_eq!(f.cursor, 3, "up from the first field wraps to the kind");
        let _ = f.digit::<()>(5);
        assert_eq!(
            f.kind,
            AttackKind::SpoofedSyn,
            "digits do not change the kind"
        );
        f.move_cursor::<()>(false);
        assert_eq!(f.cursor, 2);
        f.adjust::<()>(false);
        assert_eq!(f.seconds, 25);
        let spec = f.spec().unwrap();
        assert_eq!(spec.rate.get(), 1014.0);
        assert_eq!(spec.duration, Some(Dur::from_secs(25)));
        f.rate = 0;
        assert!(f.spec().is_err());
    }

    #[test]
    fn the_first_digit_on_a_field_replaces_its_value_and_later_ones_append() {
        let mut f = FloodForm::default();
        for d in [2, 0, 0, 0] {
            f.digit::<()>(d).expect("within the limit");
        }
        assert_eq!(f.rate, 2000, "typing 2000 over 5000 gives 2000");
        // Moving to another field and back starts afresh.
        f.move_cursor::<()>(true);
        f.digit::<()>(4).expect("within the limit");
        assert_eq!(f.sources, 4);
        f.move_cursor::<()>(false);
        f.digit::<()>(9).expect("within the limit");
        assert_eq!(f.rate, 9);
    }

    #[test]
    fn a_digit_past_the_limit_is_refused_not_capped() {
        let mut f = FloodForm::default();
        for d in [1, 0, 0, 0, 0, 0, 0, 0] {
            f.digit::<()>(d).expect("10 000 000 is the limit itself");
        }
        assert_eq!(f.rate, 10_000_000);
        let err = f.digit::<()>(0).expect_err("100 000 000 is past it");
        assert_eq!(err, "rate (SYN/s) is at most 10000000");
        assert_eq!(f.rate, 10_000_000, "the value stays as it was");
    }
}
