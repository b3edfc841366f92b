//! The lesson a lab teaches: paragraphs to read, and steps to follow.
//!
//! A step is either plain text (read it whenever) or timed: it is about a
//! simulated moment (`at`) and may carry the commands a student applies
//! there (`actions`, the same commands a timeline or script holds). Timed
//! steps let the dashboard highlight where the run is, pause at each step's
//! moment, and let a test follow the lesson as a student would.
//!
//! ```ron
//! steps: [
//!     "Watch the share column.",
//!     (at: "30s", text: "Press S once: SYN cookies on overflow.", actions: [SetSynCookies(OnOverflow)]),
//! ]
//! ```

use super::command::{Command, TimedCommand};
use super::limits::MAX_DURATION;
use super::values::Dur;
use crate::model::SimDuration;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The lesson shown beside the dashboard.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lesson {
    /// Short paragraphs: the idea, and what to watch.
    pub text: Vec<String>,
    /// Numbered steps: what to press and what should happen, in the order
    /// a student meets them (timed steps in time order).
    pub steps: Vec<Step>,
}

impl Lesson {
    /// Nothing to read.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.steps.is_empty()
    }

    /// The timed steps in order: (index into `steps`, moment, step).
    pub fn timed_steps(&self) -> impl Iterator<Item = (usize, SimDuration, &Step)> {
        self.steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.at.map(|at| (i, at.get(), s)))
    }

    /// The step a run at `now` is on: the last timed step whose moment has
    /// come. Untimed steps are never current, and before the first timed
    /// step there is none. Of several steps at one moment, the last is
    /// current, so a lab should give each step its own moment.
    pub fn current_step(&self, now: SimDuration) -> Option<usize> {
        self.timed_steps()
            .take_while(|&(_, at, _)| at <= now)
            .last()
            .map(|(i, _, _)| i)
    }

    /// The first timed step still to come after `now`, with its moment:
    /// where guided mode pauses next. `None` once every moment has passed.
    pub fn next_step_after(&self, now: SimDuration) -> Option<(usize, SimDuration)> {
        self.timed_steps()
            .find(|&(_, at, _)| at > now)
            .map(|(i, at, _)| (i, at))
    }

    /// Every step's actions stamped with its moment, in step order: what a
    /// student following the lesson applies. Actions of an untimed step
    /// (which validation refuses) are left out.
    pub fn commands(&self) -> Vec<TimedCommand> {
        self.steps
            .iter()
            .filter_map(|s| s.at.map(|at| (at, s)))
            .flat_map(|(at, s)| {
                s.actions
                    .iter()
                    .map(move |c| TimedCommand::At(at, c.clone()))
            })
            .collect()
    }
}

/// A step a student cannot follow as written: which step, which of its
/// fields, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepProblem {
    /// The step's index in `steps`.
    pub step: usize,
    /// The field the problem is about: `at` or `actions`.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl Lesson {
    /// Steps a student can follow in order: actions only where there is a
    /// moment to apply them, timed steps in time order, and each moment
    /// within the lab (`duration`, when it has one). Whether the actions
    /// name servers the lab has is the lab's check, which knows the pool.
    pub fn check(&self, duration: Option<Dur>) -> Result<(), StepProblem> {
        let mut before: Option<(usize, Dur)> = None;
        for (i, step) in self.steps.iter().enumerate() {
            let fail = |field, message| {
                Err(StepProblem {
                    step: i,
                    field,
                    message,
                })
            };
            let Some(at) = step.at else {
                if !step.actions.is_empty() {
                    return fail(
                        "actions",
                        "a step with actions needs `at`, the moment they apply".to_string(),
                    );
                }
                continue;
            };
            if let Some((j, earlier)) = before
                && at < earlier
            {
                return fail(
                    "at",
                    format!(
                        "this step is at {at}, before step {} at {earlier}; timed steps go in time order",
                        j + 1
                    ),
                );
            }
            let end = duration.map_or(Dur(MAX_DURATION), |d| d.min(Dur(MAX_DURATION)));
            if at > end {
                let what = if duration.is_some() {
                    "the lab ends"
                } else {
                    "the longest a lab may last"
                };
                return fail("at", format!("this step is at {at}, after {what} ({end})"));
            }
            before = Some((i, at));
        }
        Ok(())
    }
}

/// One step of a lesson.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The simulated moment the step is about; `None` for a step to read
    /// at any time.
    pub at: Option<Dur>,
    /// What to do and what should happen.
    pub text: String,
    /// The commands a student applies at `at` (what the keys the text
    /// names send).
    pub actions: Vec<Command>,
}

impl Step {
    /// A step with no moment and no actions.
    pub fn untimed(text: impl Into<String>) -> Step {
        Step {
            at: None,
            text: text.into(),
            actions: Vec::new(),
        }
    }

    /// A step about the moment `at`, applying `actions` there.
    pub fn at(at: Dur, text: impl Into<String>, actions: Vec<Command>) -> Step {
        Step {
            at: Some(at),
            text: text.into(),
            actions,
        }
    }
}

impl From<&str> for Step {
    fn from(text: &str) -> Step {
        Step::untimed(text)
    }
}

impl From<String> for Step {
    fn from(text: String) -> Step {
        Step::untimed(text)
    }
}

const FIELDS: &[&str] = &["at", "text", "actions"];

impl Serialize for Step {
    /// An untimed step without actions is written as the plain string it
    /// can be read from; any other as `(at: …, text: …, actions: […])`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.at.is_none() && self.actions.is_empty() {
            return s.serialize_str(&self.text);
        }
        let fields = 1 + usize::from(self.at.is_some()) + usize::from(!self.actions.is_empty());
        let mut st = s.serialize_struct("Step", fields)?;
        match &self.at {
            Some(at) => st.serialize_field("at", at)?,
            None => st.skip_field("at")?,
        }
        st.serialize_field("text", &self.text)?;
        if self.actions.is_empty() {
            st.skip_field("actions")?;
        } else {
            st.serialize_field("actions", &self.actions)?;
        }
        st.end()
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Step, D::Error> {
        // Either shape is allowed, so the text has to say which it is; labs
        // are read only from self-describing formats (RON, JSON).
        d.deserialize_any(StepVisitor)
    }
}

struct StepVisitor;

impl<'de> Visitor<'de> for StepVisitor {
    type Value = Step;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a lesson step: a string, or (at: \"30s\", text: \"…\", actions: [...])")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Step, E> {
        Ok(Step::untimed(text))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
        let mut at: Option<Dur> = None;
        let mut text: Option<String> = None;
        let mut actions: Option<Vec<Command>> = None;
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::At if at.is_some() => return Err(de::Error::duplicate_field("at")),
                Field::Text if text.is_some() => return Err(de::Error::duplicate_field("text")),
                Field::Actions if actions.is_some() => {
                    return Err(de::Error::duplicate_field("actions"));
                }
                Field::At => at = Some(map.next_value()?),
                Field::Text => text = Some(map.next_value()?),
                Field::Actions => actions = Some(map.next_value()?),
            }
        }
        Ok(Step {
            at,
            text: text.ok_or_else(|| de::Error::missing_field("text"))?,
            actions: actions.unwrap_or_default(),
        })
    }
}

/// A step's field names; anything else is an error, never ignored.
enum Field {
    At,
    Text,
    Actions,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`at`, `text` or `actions`")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                match name {
                    "at" => Ok(Field::At),
                    "text" => Ok(Field::Text),
                    "actions" => Ok(Field::Actions),
                    _ => Err(de::Error::unknown_field(name, FIELDS)),
                }
            }
        }
        d.deserialize_identifier(FieldVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::CookieMode;

    fn lesson(steps: Vec<Step>) -> Lesson {
        Lesson {
            text: vec!["idea".into()],
            steps,
        }
    }

    fn secs(n: u64) -> SimDuration {
        SimDuration::from_secs(n)
    }

    /// Untimed, then timed at 10 s and 30 s, then untimed again.
    fn sample() -> Lesson {
        lesson(vec![
            "read me".into(),
            Step::at(Dur::from_secs(10), "watch", Vec::new()),
            "between".into(),
            Step::at(
                Dur::from_secs(30),
                "press S",
                vec![Command::SetSynCookies(CookieMode::OnOverflow)],
            ),
            "afterwards".into(),
        ])
    }

    #[test]
    fn the_current_step_is_the_last_timed_one_whose_moment_has_come() {
        let l = sample();
        assert_eq!(l.current_step(SimDuration::ZERO), None);
        assert_eq!(
            l.current_step(SimDuration::from_nanos(secs(10).as_nanos() - 1)),
            None
        );
        assert_eq!(l.current_step(secs(10)), Some(1));
        assert_eq!(l.current_step(secs(29)), Some(1));
        assert_eq!(l.current_step(secs(30)), Some(3));
        assert_eq!(l.current_step(secs(1000)), Some(3));
        assert_eq!(lesson(vec!["only text".into()]).current_step(secs(5)), None);
    }

    #[test]
    fn the_next_step_is_the_first_timed_one_still_to_come() {
        let l = sample();
        assert_eq!(l.next_step_after(SimDuration::ZERO), Some((1, secs(10))));
        assert_eq!(l.next_step_after(secs(10)), Some((3, secs(30))));
        assert_eq!(l.next_step_after(secs(30)), None);
        assert_eq!(Lesson::default().next_step_after(SimDuration::ZERO), None);
    }

    #[test]
    fn commands_are_the_timed_steps_actions_at_their_moments() {
        let c = sample().commands();
        assert_eq!(
            c,
            vec![TimedCommand::At(
                Dur::from_secs(30),
                Command::SetSynCookies(CookieMode::OnOverflow)
            )]
        );
    }

    #[test]
    fn steps_must_be_followable_in_order_within_the_lab() {
        let l = sample();
        assert_eq!(l.check(Some(Dur::from_secs(30))), Ok(()));
        let late = l
            .check(Some(Dur::from_secs(20)))
            .expect_err("30 s is past 20 s");
        assert_eq!((late.step, late.field), (3, "at"));
        assert_eq!(
            late.message,
            "this step is at 30s, after the lab ends (20s)"
        );
        let mut backwards = sample();
        backwards.steps[1].at = Some(Dur::from_secs(40));
        let p = backwards.check(None).expect_err("40 s then 30 s");
        assert_eq!((p.step, p.field), (3, "at"));
        assert!(p.message.contains("before step 2 at 40s"), "{}", p.message);
        let mut untimed = sample();
        untimed.steps[3].at = None;
        let p = untimed.check(None).expect_err("actions without a moment");
        assert_eq!((p.step, p.field), (3, "actions"));
    }

    #[test]
    fn plain_strings_and_timed_steps_both_read_and_write_back() {
        let text = r#"(text: ["idea"], steps: ["plain", (at: "30s", text: "press S", actions: [SetSynCookies(OnOverflow)]), (at: "40s", text: "watch")])"#;
        let l: Lesson = ron::from_str(text).expect("a valid lesson");
        assert_eq!(l.steps[0], Step::untimed("plain"));
        assert_eq!(l.steps[1].at, Some(Dur::from_secs(30)));
        assert_eq!(l.steps[1].actions.len(), 1);
        assert_eq!(l.steps[2].actions, Vec::new());
        let written = ron::to_string(&l).expect("serializes");
        assert_eq!(written, text.replace(": ", ":").replace(", ", ","));
        let back: Lesson = ron::from_str(&written).expect("reads back");
        assert_eq!(back, l);
        let json: Lesson = serde_json::from_str(&serde_json::to_string(&l).expect("json"))
            .expect("reads back from JSON");
        assert_eq!(json, l);
    }

    #[test]
    fn a_step_refuses_unknown_and_missing_fields_with_a_position() {
        let unknown = ron::from_str::<Lesson>(r#"(steps: [(at: "1s", txt: "x")])"#)
            .expect_err("txt is not a field")
            .to_string();
        assert!(
            unknown.contains("txt") && unknown.starts_with("1:"),
            "{unknown}"
        );
        let missing = ron::from_str::<Lesson>(r#"(steps: [(at: "1s")])"#)
            .expect_err("text is required")
            .to_string();
        assert!(missing.contains("text"), "{missing}");
        let wrong = ron::from_str::<Lesson>("(steps: [3])")
            .expect_err("a number is no step")
            .to_string();
        assert!(wrong.contains("a lesson step"), "{wrong}");
    }
}
