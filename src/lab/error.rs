//! The one error a lab can fail to load with.

use super::locate::line_col;
use crate::text::escape;

/// Why a lab could not be loaded, and where: `FILE:LINE:COL: MESSAGE`, the
/// form editors and terminals turn into a link to the spot.
///
/// Errors about the file as a whole (it cannot be read, it is too large)
/// have no place in the text; their `line` and `col` are 0 and they print
/// as `FILE: MESSAGE`.
///
/// The origin and message are escaped ([`crate::text::escape`]) when made
/// and again when printed (escaping is idempotent), so the offending text
/// an error quotes, a NUL or an escape sequence, shows as `\u{0}` or
/// `\u{1b}` and never reaches the terminal raw, however the error was built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {}", escape(.origin), place(*.line, *.col), escape(.message))]
pub struct LabError {
    /// The path as given, `<builtin NAME>` for an embedded lab, or whatever
    /// origin the caller named.
    pub origin: String,
    /// 1-based line of the offending text; 0 when there is none.
    pub line: usize,
    /// 1-based column, counted in characters; 0 when there is no line.
    pub col: usize,
    /// What was wrong and what was expected instead.
    pub message: String,
}

fn place(line: usize, col: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}:{col}")
    }
}

impl LabError {
    /// An error about the text at byte `offset`.
    pub(crate) fn at(origin: &str, text: &str, offset: usize, message: String) -> LabError {
        let at = line_col(text, offset);
        LabError {
            origin: escape(origin).into_owned(),
            line: at.line,
            col: at.col,
            message: escape(&message).into_owned(),
        }
    }

    /// An error about the file or text as a whole.
    pub(crate) fn whole(origin: &str, message: String) -> LabError {
        LabError {
            origin: escape(origin).into_owned(),
            line: 0,
            col: 0,
            message: escape(&message).into_owned(),
        }
    }

    /// The line and column, if the error has a place in the text.
    pub fn position(&self) -> Option<(usize, usize)> {
        (self.line > 0).then_some((self.line, self.col))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_file_line_col_message() {
        let e = LabError::at("labs/a.ron", "(\n  x", 4, "bad".into());
        assert_eq!(e.to_string(), "labs/a.ron:2:3: bad");
        assert_eq!(e.position(), Some((2, 3)));
    }

    #[test]
    fn control_characters_in_an_error_are_shown_escaped() {
        let e = LabError::whole("bad\u{1b}[2J.ron", "unknown server \"a\u{0}b\"".into());
        assert_eq!(e.message, "unknown server \"a\\u{0}b\"");
        assert_eq!(
            e.to_string(),
            "bad\\u{1b}[2J.ron: unknown server \"a\\u{0}b\""
        );
        // Built field by field (as the proxy's JSON errors are), it is
        // still escaped when printed.
        let raw = LabError {
            origin: "x.json".into(),
            line: 1,
            col: 2,
            message: "found \u{7}".into(),
        };
        assert_eq!(raw.to_string(), "x.json:1:2: found \\u{7}");
    }

    #[test]
    fn whole_file_errors_have_no_position() {
        let e = LabError::whole("a.ron", "cannot read: gone".into());
        assert_eq!(e.to_string(), "a.ron: cannot read: gone");
        assert_eq!(e.position(), None);
    }
}
