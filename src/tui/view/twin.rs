//! The dashboard's `--compare`: two worlds side by side at the same
//! instant, A (the lab as it is) on the left and B (with the comparison's
//! commands) on the right, each with its servers, traffic and lesson
//! (objectives), under one header and status bar.

use crate::engine::Snapshot;
use crate::live::LiveFrame;
use crate::text::escape;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::sync::Arc;

/// Draws A (`app`) and B (`twin`) side by side into `area`.
pub fn render(f: &mut Frame, area: Rect, app: &App, twin: &Snapshot, theme: &Theme) {
    let [header, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    super::header::render(f, header, app, theme);
    super::status::render(f, status, app, theme);
    // B is drawn by the same panels, through an App that shows B's
    // snapshot with A's selection.
    let mut b = App::new(
        Arc::new(LiveFrame {
            snapshot: twin.clone(),
            ..(*app.frame).clone()
        }),
        app.monochrome,
    );
    b.selected = app.selected;
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
    use crate::engine::Aim;
    let keys = |on: bool| if on { "  ◀ keys (B switches)" } else { "" };
    let a_label = format!(
        "A: the lab as it is · {}{}",
        app.frame.snapshot.settings.algorithm,
        keys(app.aim != Aim::B)
    );
    let b_label = format!(
        "{} · {}{}",
        twin.lab,
        twin.settings.algorithm,
        keys(app.aim != Aim::A)
    );
    side(f, left, app, &a_label, theme);
    side(f, right, &b, &b_label, theme);
}

/// One world's column: its label, servers, traffic and lesson.
fn side(f: &mut Frame, area: Rect, app: &App, label: &str, theme: &Theme) {
    let rows = u16::try_from(app.frame.snapshot.servers.len()).unwrap_or(u16::MAX);
    let [title, servers, traffic, lesson] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(rows.saturating_add(3).min(area.height / 3).max(5)),
        // Eight traffic rows and their axis, as the main screen's panel.
        Constraint::Length(16),
        Constraint::Min(5),
    ])
    .areas(area);
    f.render_widget(
        Paragraph::new(Line::from(Span::styled(
            // A long command is cut between words, never mid-word.
            format!(
                " {}",
                super::header::cut_at_word(
                    &escape(label),
                    usize::from(area.width).saturating_sub(2)
                )
            ),
            theme.title,
        ))),
        title,
    );
    super::servers::render(f, servers, app, theme);
    super::charts::render(f, traffic, app, theme);
    super::lesson::render(f, lesson, app, theme);
}
