//! Guided mode's words: which keys do what a lesson step's actions do, so
//! a student paused at a step is told what to press.

use crate::spec::{Command, CookieMode, Step};

/// What to press for `step`: its actions as keys, or its text when it asks
/// only to watch.
pub fn what_to_press(step: &Step, number: usize) -> String {
    let keys: Vec<String> = step.actions.iter().map(keys_for).collect();
    if keys.is_empty() {
        format!("step {number}: watch, then space runs on")
    } else {
        format!(
            "step {number}: {}, then space runs on",
            keys.join(", then ")
        )
    }
}

/// The dashboard keys that apply `c`.
pub fn keys_for(c: &Command) -> String {
    match c {
        Command::KillServer(s) => format!("select {s} (↑↓) and press x"),
        Command::ReviveServer(s) => format!("select {s} and press r"),
        Command::DrainServer(s) => format!("select {s} and press d"),
        Command::SetWeight(s, w) => format!("select {s} and press + or - to weight {w}"),
        Command::KillRandomServer => "press X".into(),
        Command::KillRandomClient => "press C".into(),
        Command::SetAlgorithm(a) => format!("press a and choose {}", a.name()),
        Command::SetTimeout(..)
        | Command::SetMaxRetransmissions(_)
        | Command::SetHealth(_)
        | Command::SetMaxHalfOpen(_) => "press t and edit the value".into(),
        Command::StartFlood(_) => "press f, then Enter".into(),
        Command::StopFlood => "press f".into(),
        Command::SetRateLimit(_) => "press L".into(),
        Command::SetFilter(_) => "press A".into(),
        Command::SetSynCookies(CookieMode::Off) => {
            "press S until the log says SYN cookies -> off".into()
        }
        Command::SetSynCookies(mode) => {
            format!("press S until the log says SYN cookies -> {}", mode.name())
        }
        Command::SetSlowStart(_) => "press U".into(),
        Command::SetOutlierEjection(_) => "press E".into(),
        Command::SetPanicThreshold(_) => "press P".into(),
        Command::SetRedispatch(_) => "press D".into(),
        Command::SetSticky(_) => "press Y".into(),
        // No key applies these; the lab's timeline or a script does.
        other => format!("(no key: {})", short(other)),
    }
}

/// A command's name, without its arguments.
fn short(c: &Command) -> String {
    let debug = format!("{c:?}");
    debug
        .split(['(', ' '])
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Dur;

    #[test]
    fn a_step_says_its_keys_in_order() {
        let step = Step::at(
            Dur::from_secs(30),
            "kill and cookies",
            vec![
                Command::KillServer("srv-2".into()),
                Command::SetSynCookies(CookieMode::OnOverflow),
            ],
        );
        assert_eq!(
            what_to_press(&step, 2),
            "step 2: select srv-2 (↑↓) and press x, then press S until the log says SYN cookies -> on overflow, then space runs on"
        );
        let watch = Step::at(Dur::from_secs(10), "watch", Vec::new());
        assert!(what_to_press(&watch, 1).contains("watch"));
        assert_eq!(
            keys_for(&Command::SetPopulation(5)),
            "(no key: SetPopulation)"
        );
    }
}
