//! What `--real` cannot do, found before anything runs. With `--real` a
//! lab's servers are real TCP servers on 127.0.0.1, its clients real tasks,
//! and its balancer `lblab proxy`: whatever needs raw sockets, privileges,
//! the kernel's own defences or a proxy feature `lblab proxy` lacks is
//! refused, each at the place in the file that asks for it, as
//! `FILE:LINE:COL: PLACE: MESSAGE` (the form validation errors take).
//!
//! Only values that differ from the defaults are refused: a lab that does
//! not mention a feature runs for real.

use super::builtin::{BUILTIN, builtin, resolve};
use super::error::LabError;
use super::load::{self, Kind, load_commands_str, load_str};
use super::locate::{Path as LabPath, Seg, context_at, locate, locate_item};
use crate::spec::{
    AttackKind, Command, CookieMode, Inspect, Lab, LinkSpec, ServerSpec, ServersSpec, TimedCommand,
    format_duration,
};
use crate::spec::{Dur, Positive};
use std::path::Path;

/// The most refusals located and shown; the rest are counted. Locating
/// one scans the text, so a hostile file with thousands of floods stays
/// cheap to refuse.
pub const MAX_REFUSALS_SHOWN: usize = 20;

/// Why `--real` cannot do something a lab or script asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Why {
    SpoofedSyn,
    Loss(f64),
    Jitter(Dur),
    SynCookies(CookieMode),
    EarlyDrop,
    NoPacketValidation,
    MaxHalfOpen,
    SlowStart,
    OutlierEjection,
    Queue,
    PanicThreshold,
    Inspect,
}

impl Why {
    /// What is refused, why, and what to do instead.
    fn message(self) -> String {
        match self {
            Why::SpoofedSyn => "--real cannot send spoofed SYNs: a spoofed SYN flood needs \
                raw sockets and addresses this machine does not own; --real runs connection \
                floods and slow senders for real, but not spoofed SYNs (kind: ConnectionFlood \
                or SlowSenders)"
                .to_string(),
            Why::Loss(p) => format!(
                "--real cannot lose packets (loss {p}): packet loss on loopback needs \
                 privileges (tc netem); set loss to 0.0"
            ),
            Why::Jitter(d) => format!(
                "--real cannot add a jitter of \"{}\": jitter below 1 ms is under the \
                 scheduler's resolution; use \"0ms\" or at least \"1ms\"",
                format_duration(d.get())
            ),
            Why::SynCookies(mode) => format!(
                "--real cannot answer SYNs with cookies ({}): SYN cookies are the kernel's \
                 (net.ipv4.tcp_syncookies), not lblab proxy's, which only sees connections \
                 the kernel has accepted; leave SYN cookies Off",
                mode.name()
            ),
            Why::EarlyDrop => "--real cannot drop half-open connections early: they wait in \
                the kernel's SYN backlog, which lblab proxy never sees; leave early drop off"
                .to_string(),
            Why::NoPacketValidation => "--real cannot turn packet validation off: the \
                kernel's TCP stack checks every packet's flags itself, and lblab proxy only \
                sees connections; leave packet validation on"
                .to_string(),
            Why::MaxHalfOpen => "--real cannot limit half-open connections at the balancer: \
                they wait in the kernel's SYN backlog (net.ipv4.tcp_max_syn_backlog), which \
                lblab proxy never sees; leave the half-open limit at its default (64)"
                .to_string(),
            Why::SlowStart => "--real cannot slow-start a backend: lblab proxy has no slow \
                start; leave it off"
                .to_string(),
            Why::OutlierEjection => "--real cannot eject outliers: lblab proxy has no outlier \
                ejection (its health checks take a failing backend out); leave it off"
                .to_string(),
            Why::Queue => "--real cannot cap a backend's connections with a queue: lblab proxy \
                has no per-backend cap and no queue (its max connections caps the whole proxy \
                and refuses the rest); leave it off"
                .to_string(),
            Why::PanicThreshold => "--real cannot use a panic threshold: lblab proxy has no \
                panic mode; leave it off"
                .to_string(),
            Why::Inspect => "--real cannot inspect a connection: the connection inspector \
                shows simulated packets, and real ones pass through the kernel; remove the \
                command"
                .to_string(),
        }
    }
}

/// One refusal before it is located.
struct Refusal {
    /// Where it is written, most precise first: each shorter prefix is
    /// tried in turn when the longer one is not written in the text.
    at: Vec<Seg<'static>>,
    /// How the message names the place: `clients.floods[0]`, `timeline[3]`,
    /// `command 4 of the script`.
    label: String,
    why: Why,
}

/// Why `lab` cannot run on real sockets, each refusal at its place in
/// `text`: the key's value when it is written, else the list entry (a
/// flood, a timeline command, a lesson step's action), else the nearest
/// enclosing field. A lesson step's actions count as much as the timeline:
/// a step that asks for what `--real` cannot do cannot be followed.
///
/// `text` must be the text `lab` was parsed from (a byte-order mark is
/// ignored, as the loader ignores it) and `origin` names it in errors as
/// the loader does: the path as given, or `<builtin NAME>` for a built-in
/// lab. Errors come in the order of the text; past
/// [`MAX_REFUSALS_SHOWN`] a last error, with no place, counts the rest.
pub fn check_real(lab: &Lab, text: &str, origin: &str) -> Result<(), Vec<LabError>> {
    let mut out = Vec::new();
    links(lab, &mut out);
    defences(lab, &mut out);
    resilience(lab, &mut out);
    servers(&lab.servers, &mut out);
    floods(lab, &mut out);
    for (i, entry) in lab.timeline.iter().enumerate() {
        let base = [Seg::Field("timeline"), Seg::Item(i)];
        commands(entry.command(), &base, format!("timeline[{i}]"), &mut out);
    }
    lesson(lab, &mut out);
    located(out, text, origin)
}

/// Why a command script cannot run with `--real`, as [`check_real`] says
/// it for a lab: each refusal at its command (or the command's `kind:`,
/// `loss:` or `jitter:` when written), named `command N of the script` as
/// the script loader names its errors. `text` is the script's text and
/// `commands` what it parsed to.
pub fn check_real_commands(
    commands: &[TimedCommand],
    text: &str,
    origin: &str,
) -> Result<(), Vec<LabError>> {
    let mut out = Vec::new();
    for (i, entry) in commands.iter().enumerate() {
        let label = format!("command {} of the script", i + 1);
        self::commands(entry.command(), &[Seg::Item(i)], label, &mut out);
    }
    located(out, text, origin)
}

/// The lab a command line means by `name_or_path`, as [`resolve`] finds
/// it (a built-in name wins, then a file), loaded and then checked with
/// [`check_real`]. The error is every refusal, one `FILE:LINE:COL: MESSAGE`
/// line each, joined by newlines; or the one error the lab failed to load
/// with.
pub fn resolve_real(name_or_path: &str) -> Result<Lab, String> {
    let (lab, text, origin) = match BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        Some((name, text)) => {
            let lab = builtin(name).map_err(|e| e.to_string())?;
            (lab, (*text).to_string(), format!("<builtin {name}>"))
        }
        None if Path::new(name_or_path).exists() => {
            let path = Path::new(name_or_path);
            let origin = path.display().to_string();
            let text = load::read_text(path, &origin).map_err(|e| e.to_string())?;
            let lab = load::beside(path, || load_str(&text, &origin)).map_err(|e| e.to_string())?;
            (lab, text, origin)
        }
        None => {
            return Err(match resolve(name_or_path) {
                Err(e) => e.to_string(),
                // The file appeared between the two looks; its text was
                // not read, so it cannot be checked now.
                Ok(_) => format!("{name_or_path}: the file appeared while it was looked up"),
            });
        }
    };
    check_real(&lab, &text, &origin).map_err(joined)?;
    Ok(lab)
}

/// Reads and parses the command script at `path` for `lab`, as
/// [`crate::lab::load_commands`] does, then checks it with
/// [`check_real_commands`]; errors are lines as [`resolve_real`] gives.
pub fn load_real_commands(path: &Path, lab: &Lab) -> Result<Vec<TimedCommand>, String> {
    let origin = path.display().to_string();
    let text = load::read_text_as(path, &origin, Kind::Script).map_err(|e| e.to_string())?;
    let commands =
        load::beside(path, || load_commands_str(&text, &origin, lab)).map_err(|e| e.to_string())?;
    check_real_commands(&commands, &text, &origin).map_err(joined)?;
    Ok(commands)
}

/// Errors as lines, one each.
fn joined(errors: Vec<LabError>) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A refusal of the field at `path`, named by its path.
fn field(out: &mut Vec<Refusal>, path: &[Seg<'static>], why: Why) {
    out.push(Refusal {
        at: path.to_vec(),
        label: LabPath(path.to_vec()).to_string(),
        why,
    });
}

/// What `link` asks for that loopback cannot give: the field and why.
fn link_refusals(link: &LinkSpec) -> Vec<(&'static str, Why)> {
    let mut out = Vec::new();
    if link.loss.get() > 0.0 {
        out.push(("loss", Why::Loss(link.loss.get())));
    }
    if link.jitter > Dur::ZERO && link.jitter < Dur::from_millis(1) {
        out.push(("jitter", Why::Jitter(link.jitter)));
    }
    out
}

fn links(lab: &Lab, out: &mut Vec<Refusal>) {
    let links = [
        ("client_link", &lab.network.client_link),
        ("backend_link", &lab.network.backend_link),
    ];
    for (name, link) in links {
        for (key, why) in link_refusals(link) {
            let at = [Seg::Field("network"), Seg::Field(name), Seg::Field(key)];
            field(out, &at, why);
        }
    }
}

fn defences(lab: &Lab, out: &mut Vec<Refusal>) {
    let d = &lab.balancer.defences;
    let at = |key| {
        [
            Seg::Field("balancer"),
            Seg::Field("defences"),
            Seg::Field(key),
        ]
    };
    if d.validate_packets != crate::spec::DefencesSpec::default().validate_packets {
        field(out, &at("validate_packets"), Why::NoPacketValidation);
    }
    if d.early_drop {
        field(out, &at("early_drop"), Why::EarlyDrop);
    }
    if d.syn_cookies != CookieMode::Off {
        field(out, &at("syn_cookies"), Why::SynCookies(d.syn_cookies));
    }
}

fn resilience(lab: &Lab, out: &mut Vec<Refusal>) {
    let r = &lab.balancer.resilience;
    let at = |key| {
        [
            Seg::Field("balancer"),
            Seg::Field("resilience"),
            Seg::Field(key),
        ]
    };
    if r.slow_start.is_some() {
        field(out, &at("slow_start"), Why::SlowStart);
    }
    if r.outlier_ejection.is_some() {
        field(out, &at("outlier_ejection"), Why::OutlierEjection);
    }
    if r.queue.is_some() {
        field(out, &at("queue"), Why::Queue);
    }
    if r.panic_threshold.is_some() {
        field(out, &at("panic_threshold"), Why::PanicThreshold);
    }
}

/// The half-open limit a server has when its lab does not set one.
fn default_max_half_open() -> Positive {
    ServerSpec::default().max_half_open
}

fn servers(servers: &ServersSpec, out: &mut Vec<Refusal>) {
    const S: Seg<'static> = Seg::Field("servers");
    const KEY: Seg<'static> = Seg::Field("max_half_open");
    match servers {
        ServersSpec::List(list) => {
            for (i, s) in list.iter().enumerate() {
                if s.max_half_open != default_max_half_open() {
                    field(out, &[S, Seg::Item(i), KEY], Why::MaxHalfOpen);
                }
            }
        }
        ServersSpec::Replicate { template, .. } => {
            if template.max_half_open != default_max_half_open() {
                field(out, &[S, Seg::Field("template"), KEY], Why::MaxHalfOpen);
            }
        }
    }
}

fn floods(lab: &Lab, out: &mut Vec<Refusal>) {
    for (i, flood) in lab.clients.floods.iter().enumerate() {
        if flood.kind == AttackKind::SpoofedSyn {
            out.push(Refusal {
                at: vec![
                    Seg::Field("clients"),
                    Seg::Field("floods"),
                    Seg::Item(i),
                    Seg::Field("kind"),
                ],
                label: format!("clients.floods[{i}]"),
                why: Why::SpoofedSyn,
            });
        }
    }
}

/// A lesson's actions are what a student applies at each step; a step
/// that asks for what `--real` cannot do cannot be followed.
fn lesson(lab: &Lab, out: &mut Vec<Refusal>) {
    for (i, step) in lab.lesson.steps.iter().enumerate() {
        for (j, cmd) in step.actions.iter().enumerate() {
            let base = [
                Seg::Field("lesson"),
                Seg::Field("steps"),
                Seg::Item(i),
                Seg::Field("actions"),
                Seg::Item(j),
            ];
            let label = format!("lesson.steps[{i}].actions[{j}]");
            commands(cmd, &base, label, out);
        }
    }
}

/// What `cmd` asks for that `--real` cannot do: the field within the
/// command's value that says so, when there is one, and why.
fn command_refusals(cmd: &Command) -> Vec<(Option<&'static str>, Why)> {
    let whole = |why| vec![(None, why)];
    match cmd {
        Command::StartFlood(f) if f.kind == AttackKind::SpoofedSyn => {
            vec![(Some("kind"), Why::SpoofedSyn)]
        }
        Command::SetLink(_, link) => link_refusals(link)
            .into_iter()
            .map(|(key, why)| (Some(key), why))
            .collect(),
        Command::SetSynCookies(mode) if *mode != CookieMode::Off => whole(Why::SynCookies(*mode)),
        Command::SetEarlyDrop(true) => whole(Why::EarlyDrop),
        Command::SetPacketValidation(false) => whole(Why::NoPacketValidation),
        Command::SetMaxHalfOpen(_) => whole(Why::MaxHalfOpen),
        Command::AddServer(s) if s.max_half_open != default_max_half_open() => {
            vec![(Some("max_half_open"), Why::MaxHalfOpen)]
        }
        Command::SetSlowStart(Some(_)) => whole(Why::SlowStart),
        Command::SetOutlierEjection(Some(_)) => whole(Why::OutlierEjection),
        Command::SetQueue(Some(_)) => whole(Why::Queue),
        Command::SetPanicThreshold(Some(_)) => whole(Why::PanicThreshold),
        Command::Inspect(Inspect::Off) => Vec::new(),
        Command::Inspect(_) => whole(Why::Inspect),
        _ => Vec::new(),
    }
}

/// The refusals of the command at `base` (a timeline entry or a script's
/// item), named `label`.
fn commands(cmd: &Command, base: &[Seg<'static>], label: String, out: &mut Vec<Refusal>) {
    for (key, why) in command_refusals(cmd) {
        let mut at = base.to_vec();
        at.extend(key.map(Seg::Field));
        out.push(Refusal {
            at,
            label: label.clone(),
            why,
        });
    }
}

/// Each refusal as an error at its place in `text`, in the order of the
/// text, at most [`MAX_REFUSALS_SHOWN`] of them and then a count.
fn located(refusals: Vec<Refusal>, text: &str, origin: &str) -> Result<(), Vec<LabError>> {
    if refusals.is_empty() {
        return Ok(());
    }
    // Columns are counted without a byte-order mark, as the loader counts.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let hidden = refusals.len().saturating_sub(MAX_REFUSALS_SHOWN);
    let mut errors: Vec<LabError> = refusals
        .iter()
        .take(MAX_REFUSALS_SHOWN)
        .map(|r| {
            let message = format!("{}: {}", r.label, r.why.message());
            LabError::at(origin, text, place(text, &r.at), message)
        })
        .collect();
    errors.sort_by_key(|e| (e.line, e.col));
    if hidden > 0 {
        errors.push(LabError::whole(
            origin,
            format!("and {hidden} more places --real cannot run, not shown"),
        ));
    }
    Err(errors)
}

/// The byte where the longest written prefix of `at` is: a field's value,
/// or a list item's start; else the first token of the text.
fn place(text: &str, at: &[Seg<'static>]) -> usize {
    for n in (1..=at.len()).rev() {
        let path = &at[..n];
        let found = match path[n - 1] {
            Seg::Item(_) => locate_item(text, path),
            // `locate` falls back to an enclosing field when this one is
            // not written; only a value whose own path it is will do.
            Seg::Field(_) => {
                let offset = locate(text, path);
                (context_at(text, offset, true).path.0 == path).then_some(offset)
            }
        };
        if let Some(offset) = found {
            return offset;
        }
    }
    locate(text, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusals(text: &str) -> Vec<String> {
        let lab = load_str(text, "t.ron").unwrap();
        match check_real(&lab, text, "t.ron") {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn defaults_pass_even_when_written() {
        let text = "(name: \"x\", network: (client_link: (jitter: \"0ms\", loss: 0.0)), \
                    balancer: (defences: (validate_packets: true, early_drop: false, \
                    syn_cookies: Off)), timeline: [At(\"1s\", SetSynCookies(Off)), \
                    At(\"2s\", Inspect(Off)), At(\"3s\", SetSlowStart(None))])";
        assert_eq!(refusals(text), Vec::<String>::new());
    }

    #[test]
    fn an_unwritten_field_falls_back_to_its_entry() {
        let text = "(name: \"x\", clients: (floods: [\n  (rate: 1.0),\n  (kind: SpoofedSyn)]))";
        let errors = refusals(text);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].starts_with("t.ron:2:3: clients.floods[0]: "),
            "{errors:?}"
        );
        assert!(
            errors[1].starts_with("t.ron:3:10: clients.floods[1]: "),
            "{errors:?}"
        );
        let servers = "(name: \"x\", servers: Replicate(count: 2, template: (max_half_open: 8)))";
        let col = 1 + servers.find("8)").unwrap();
        let expected = format!("t.ron:1:{col}: servers.template.max_half_open: ");
        assert!(refusals(servers)[0].starts_with(&expected), "{expected}");
    }

    #[test]
    fn past_the_limit_the_rest_are_counted() {
        let floods = vec!["()"; MAX_REFUSALS_SHOWN + 3].join(", ");
        let text = format!("(name: \"x\", clients: (floods: [{floods}]))");
        let errors = refusals(&text);
        assert_eq!(errors.len(), MAX_REFUSALS_SHOWN + 1);
        assert_eq!(
            errors[MAX_REFUSALS_SHOWN],
            "t.ron: and 3 more places --real cannot run, not shown"
        );
    }
}
