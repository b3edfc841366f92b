//! Text from outside (lab, server and objective names, file paths, the
//! offending text of an error) made safe to print. A name is data, not
//! terminal input: an escape sequence in it must not recolour, move the
//! cursor or retitle the window of whoever reads a report, and a newline
//! in it must not start a CSV row. So every face prints such text through
//! [`escape`], which shows each control character as a visible escape, the
//! same way in the terminal, the dashboard, CSV and error messages.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` with every control character written out as an escape: `\n`, `\r`
/// and `\t` by name, any other as its code point in Rust's form (`\u{1b}`
/// for ESC, `\u{0}` for NUL, `\u{9b}` for the one-byte CSI). Unicode's
/// bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) are
/// escaped too, since they reorder what a terminal shows around them.
///
/// Everything else, backslashes included, is left as it is: escaping twice
/// gives the same text as escaping once, so a message built from escaped
/// parts can be escaped again where it is printed. (The price: a name that
/// really contains the four characters `\u{1b}` prints like one holding
/// ESC; readable beats reversible here.)
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                // Writing into a String cannot fail.
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A control character (C0, DEL or C1) or a bidirectional override.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `name` as a piece of a file name: ASCII letters, digits and `-` kept,
/// anything else (a path separator, a space, a control character) `_`.
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        // Names print on every frame; the common case must not allocate.
        assert!(matches!(escape("srv-1 ünïcödé ✔"), Cow::Borrowed(_)));
        assert_eq!(escape("a\\b \"q\""), "a\\b \"q\"");
    }

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(escape("\u{1b}[31mred\u{1b}[0m"), "\\u{1b}[31mred\\u{1b}[0m");
        assert_eq!(escape("a\0b"), "a\\u{0}b");
        assert_eq!(escape("one\ntwo\r\tthree"), "one\\ntwo\\r\\tthree");
        assert_eq!(escape("\u{7f}\u{9b}2J"), "\\u{7f}\\u{9b}2J");
        assert_eq!(escape("\u{202e}evil"), "\\u{202e}evil");
    }

    #[test]
    fn escaping_twice_is_escaping_once() {
        let once = escape("x\u{1b}]0;title\u{7}\n").into_owned();
        assert_eq!(once, "x\\u{1b}]0;title\\u{7}\\n");
        assert_eq!(escape(&once), once);
    }

    #[test]
    fn file_names_keep_letters_digits_and_dashes_only() {
        assert_eq!(super::file_safe("syn-cookies"), "syn-cookies");
        assert_eq!(super::file_safe("../a b\n"), "___a_b_");
    }
}
