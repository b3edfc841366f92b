//! The keys of each popup: what a key does to the form or list under it,
//! and the Commands it sends.

use super::app::Action;
use super::forms::{FloodForm, TimeoutsForm};
use crate::lab;
use crate::live::Control;
use crate::spec::{Algorithm, Command};

/// What a popup key did: the controls to send, and whether it closes.
pub(super) type PopupStep = (Vec<Control>, bool);

/// A key in the flood popup; `Err` says why the flood cannot start.
pub(super) fn flood_key(form: &mut FloodForm, action: Action) -> Result<Vec<Control>, String> {
    Ok(match action {
        Action::PopupUp => form.move_cursor(false),
        Action::PopupDown => form.move_cursor(true),
        Action::PopupLess => form.adjust(false),
        Action::PopupMore => form.adjust(true),
        Action::PopupDigit(d) => form.digit(d)?,
        Action::PopupBackspace => form.backspace(),
        Action::PopupConfirm => vec![Control::Apply(Command::StartFlood(form.spec()?))],
        _ => Vec::new(),
    })
}

/// A key in the algorithm picker, whose highlighted row is `i`, with
/// `current` in force (choosing its family keeps its numbers).
pub(super) fn algorithms_key(i: &mut usize, action: Action, current: Algorithm) -> PopupStep {
    let n = Algorithm::ALL.len();
    match action {
        Action::PopupUp | Action::PopupLess => *i = i.checked_sub(1).unwrap_or(n - 1),
        Action::PopupDown | Action::PopupMore => *i = (*i + 1) % n,
        Action::PopupDigit(d) if (1..=n as u8).contains(&d) => *i = usize::from(d - 1),
        Action::PopupConfirm => {
            let pick = Algorithm::ALL[(*i).min(n - 1)];
            let pick = if pick.name() == current.name() {
                current
            } else {
                pick
            };
            return (vec![Control::Apply(Command::SetAlgorithm(pick))], true);
        }
        _ => {}
    }
    (Vec::new(), false)
}

/// A key in the timeouts editor: each change is a Command at once.
pub(super) fn timeouts_key(form: &mut TimeoutsForm, action: Action) -> PopupStep {
    let controls = match action {
        Action::PopupUp => form.move_cursor(false),
        Action::PopupDown => form.move_cursor(true),
        Action::PopupLess => form.adjust(false).into_iter().map(Control::Apply).collect(),
        Action::PopupMore => form.adjust(true).into_iter().map(Control::Apply).collect(),
        Action::PopupConfirm => return (Vec::new(), true),
        _ => Vec::new(),
    };
    (controls, false)
}

/// A key in the lab picker, whose highlighted row is `i`; `Err` says why
/// the lab cannot load.
pub(super) fn labs_key(i: &mut usize, action: Action) -> Result<PopupStep, String> {
    let n = lab::BUILTIN.len().max(1);
    match action {
        Action::PopupUp | Action::PopupLess => *i = (*i + n - 1) % n,
        Action::PopupDown | Action::PopupMore => *i = (*i + 1) % n,
        Action::PopupConfirm => {
            let name = lab::BUILTIN
                .get(*i)
                .map(|(name, _)| *name)
                .unwrap_or_default();
            let lab = lab::builtin(name).map_err(|e| e.to_string())?;
            let seed = lab.seed;
            return Ok((vec![Control::Load(Box::new(lab), seed)], true));
        }
        _ => {}
    }
    Ok((Vec::new(), false))
}

/// An action only a popup takes.
pub(super) fn is_popup_action(a: Action) -> bool {
    matches!(
        a,
        Action::PopupUp
            | Action::PopupDown
            | Action::PopupLess
            | Action::PopupMore
            | Action::PopupDigit(_)
            | Action::PopupBackspace
            | Action::PopupConfirm
    )
}
