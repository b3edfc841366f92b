//! Where the pickers (algorithms, labs) sit and which rows they show:
//! shared by their drawing and the mouse, so a click chooses the row the
//! eye sees.

use super::centered;
use crate::lab;
use crate::spec::Algorithm;
use crate::tui::app::Overlay;
use ratatui::layout::Rect;

/// The algorithm picker's rectangle on a screen of `screen`.
pub fn algorithms_area(screen: Rect) -> Rect {
    centered(screen, 100, Algorithm::ALL.len() as u16 + 5)
}

/// The lab picker's rectangle on a screen of `screen`.
pub fn labs_area(screen: Rect) -> Rect {
    centered(screen, 150, lab::BUILTIN.len() as u16 + 5)
}

/// Rows of a list that fit in a popup's `inner` rectangle: a blank line
/// and the key hint sit below the list.
pub fn list_rows(inner: Rect) -> usize {
    usize::from(inner.height.saturating_sub(2)).max(1)
}

/// The first row a list of `len` rows shows with `highlight` in view.
pub fn list_start(len: usize, highlight: usize, inner: Rect) -> usize {
    let rows = list_rows(inner);
    if len <= rows {
        0
    } else {
        highlight.saturating_sub(rows - 1).min(len - rows)
    }
}

/// The inside of a bordered popup.
pub fn inner(area: Rect) -> Rect {
    Rect {
        x: area.x.saturating_add(1),
        y: area.y.saturating_add(1),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    }
}

/// For an open picker: the rectangle of its visible rows and the index
/// of the first one.
pub fn rows_of(overlay: &Overlay, screen: Rect) -> Option<(Rect, usize)> {
    let (area, len, highlight) = match overlay {
        Overlay::Algorithms(i) => (algorithms_area(screen), Algorithm::ALL.len(), *i),
        Overlay::Labs(i) => (labs_area(screen), lab::BUILTIN.len(), *i),
        _ => return None,
    };
    let inner = inner(area);
    let shown = list_rows(inner).min(len);
    let rows = Rect {
        height: u16::try_from(shown).unwrap_or(u16::MAX),
        ..inner
    };
    Some((rows, list_start(len, highlight, inner)))
}
