//! The connection inspector's key: the client behind the selected
//! server's last pick, its packets drawn as a ladder.

use super::{App, Overlay};
use crate::live::Control;
use crate::spec::{Command, Inspect};

impl App {
    /// Opens the ladder on the client of the selected server's newest
    /// pick; the World keeps that client's packets from now on.
    pub(super) fn inspect_selected(&mut self) -> Vec<Control> {
        let Some(row) = self.selected_server() else {
            self.notice = Some("no server to inspect a connection of".into());
            return Vec::new();
        };
        if row.recent_picks.is_empty() {
            self.notice = Some(format!(
                "{} has not been picked yet: select a server with connections",
                crate::text::escape(&row.name)
            ));
            return Vec::new();
        }
        let command = Command::Inspect(Inspect::LastPickOf(row.name.clone()));
        self.overlay = Overlay::Ladder;
        vec![Control::Apply(command)]
    }
}
