//! The key table's own checks.

use super::*;

#[test]
fn no_key_means_two_things_in_one_scope() {
    for (i, a) in KEYS.iter().enumerate() {
        for b in &KEYS[i + 1..] {
            let overlap =
                a.scope == b.scope || a.scope == Scope::Global || b.scope == Scope::Global;
            if overlap {
                for k in a.keys {
                    assert!(
                        !b.keys.contains(k),
                        "{k:?} bound to {:?} and {:?}",
                        a.action,
                        b.action
                    );
                }
            }
        }
    }
}

#[test]
fn help_closes_on_any_key_but_ctrl_c_still_quits() {
    assert_eq!(
        action_for(&Overlay::Help, Key::Char('x')),
        Some(Action::Close)
    );
    assert_eq!(
        action_for(&Overlay::Help, Key::Ctrl('c')),
        Some(Action::Quit)
    );
}

#[test]
fn popups_take_digits_and_shadow_main_keys() {
    let popup = Overlay::Algorithms(0);
    assert_eq!(
        action_for(&popup, Key::Char('7')),
        Some(Action::PopupDigit(7))
    );
    assert_eq!(action_for(&popup, Key::Char('x')), None);
    assert_eq!(action_for(&popup, Key::Char('q')), Some(Action::Close));
    assert_eq!(
        action_for(&Overlay::None, Key::Char('q')),
        Some(Action::Quit)
    );
    assert_eq!(action_for(&Overlay::None, Key::Char('7')), None);
}
