//! RON's parse errors, retold for people: where exactly, in which field,
//! what was expected and what was found, without Rust type names.

use super::locate::{LineCol, context_at, indent_of_line, line_col, offset_of, skip_blank};
use crate::text::escape;
use ron::error::{Error, SpannedError};

/// The byte offset of the error and a message with its field path. Text
/// quoted from the file (a token, a field or variant name, RON's own
/// message) is escaped: a NUL or an escape sequence in a lab file shows as
/// `\u{0}` or `\u{1b}` in the message, not as itself.
/// `noun` names what the text is ("lab", "script", "configuration").
pub(crate) fn describe(
    text: &str,
    err: &SpannedError,
    nesting_limit: usize,
    noun: &str,
) -> (usize, String) {
    let start = offset_of(text, pos(&err.span.start));
    let end = offset_of(text, pos(&err.span.end));
    // RON's span starts before the whitespace in front of a bad value, and
    // for a missing separator only its end is where the separator belonged.
    let (offset, about_value) = match err.code {
        Error::ExpectedComma
        | Error::Eof
        | Error::ExpectedArrayEnd
        | Error::ExpectedStructLikeEnd
        | Error::ExpectedOptionEnd
        | Error::ExpectedMapEnd
        | Error::TrailingCharacters => (end, false),
        // RON's span starts inside the comment; the opener is the place.
        Error::UnclosedBlockComment => (text[..start].rfind("/*").unwrap_or(start), false),
        Error::NoSuchStructField { .. }
        | Error::MissingStructField { .. }
        | Error::DuplicateStructField { .. } => (skip_blank(text, start), false),
        _ => (skip_blank(text, start), true),
    };
    let context = context_at(text, offset, about_value);
    let found = found(text, offset);
    let mut message = message(&err.code, &found, context.open, nesting_limit, noun);
    if matches!(err.code, Error::NoSuchStructField { .. })
        && looks_outside(text, offset, context.open)
    {
        message.push_str(&format!(
            "; is a `{}` missing above it?",
            closer(context.open)
        ));
    }
    let message = if context.path.0.is_empty() {
        message
    } else {
        format!("{}: {message}", context.path)
    };
    (offset, escape(&message).into_owned())
}

/// Whether a field sits no deeper than the line that opened its struct:
/// the usual sign that the struct was meant to be closed before it, and
/// RON went on reading the next field as part of it.
fn looks_outside(text: &str, field_at: usize, open: Option<(u8, usize)>) -> bool {
    let Some((_, open_at)) = open else {
        return false;
    };
    line_col(text, open_at).line < line_col(text, field_at).line
        && indent_of_line(text, field_at) <= indent_of_line(text, open_at)
}

fn pos(p: &ron::error::Position) -> LineCol {
    LineCol {
        line: p.line,
        col: p.col,
    }
}

/// What closes the innermost open bracket.
fn closer(open: Option<(u8, usize)>) -> &'static str {
    match open {
        Some((b'[', _)) => "]",
        Some((b'{', _)) => "}",
        _ => ")",
    }
}

fn message(
    code: &Error,
    found: &str,
    open: Option<(u8, usize)>,
    nesting_limit: usize,
    noun: &str,
) -> String {
    let closer = closer(open);
    match code {
        Error::Message(m) => m.clone(),
        Error::NoSuchStructField {
            expected, found: f, ..
        } => format!(
            "unknown field \"{f}\", expected one of: {}",
            expected.join(", ")
        ),
        Error::NoSuchEnumVariant {
            expected, found: f, ..
        } => format!(
            "unknown variant \"{f}\", expected one of: {}",
            expected.join(", ")
        ),
        Error::MissingStructField { field, .. } => format!("missing field \"{field}\""),
        Error::DuplicateStructField { field, .. } => {
            format!("field \"{field}\" is given more than once")
        }
        Error::InvalidValueForType { expected, found: f } => {
            format!("expected {expected}, found {f}")
        }
        Error::ExpectedDifferentLength { expected, found: n } => {
            format!("expected {}, found {n}", plain_length(expected))
        }
        Error::ExpectedComma => format!("expected `,` or `{closer}`, found {found}"),
        Error::Eof => format!("unexpected end of file, expected `,` or `{closer}`"),
        Error::ExpectedStructLikeEnd | Error::ExpectedOptionEnd => {
            format!("expected `)`, found {found}")
        }
        Error::ExpectedArrayEnd => format!("expected `]`, found {found}"),
        Error::ExpectedMapEnd => format!("expected `}}`, found {found}"),
        Error::TrailingCharacters => format!("unexpected {found} after the end of the {noun}"),
        Error::ExceededRecursionLimit => {
            format!("nested too deeply (more than {nesting_limit} levels)")
        }
        Error::ExpectedOption => {
            format!("expected `None` or the value inside `Some(...)`, found {found}")
        }
        Error::ExpectedInteger => format!("expected a whole number, found {found}"),
        Error::ExpectedFloat => format!("expected a number, found {found}"),
        Error::IntegerOutOfBounds => format!("number out of range, found {found}"),
        Error::ExpectedString => format!("expected a string in double quotes, found {found}"),
        Error::ExpectedStringEnd => "string has no closing `\"`".to_string(),
        Error::ExpectedBoolean => format!("expected `true` or `false`, found {found}"),
        Error::ExpectedArray => format!("expected a list `[...]`, found {found}"),
        Error::ExpectedStructLike
        | Error::ExpectedNamedStructLike(_)
        | Error::ExpectedDifferentStructName { .. } => format!("expected `(`, found {found}"),
        Error::ExpectedIdentifier => format!("expected a field name, found {found}"),
        Error::ExpectedMapColon => format!("expected `:`, found {found}"),
        Error::UnexpectedChar(c) => format!("unexpected character `{c}`"),
        Error::UnclosedBlockComment => "comment `/*` has no closing `*/`".to_string(),
        Error::NoSuchExtension(name) => format!("unknown RON extension \"{name}\""),
        other => lower_first(&other.to_string()),
    }
}

/// `tuple variant Dist::Uniform with 2 elements` as `2 values for Uniform`.
fn plain_length(expected: &str) -> String {
    let Some(rest) = expected.strip_prefix("tuple variant ") else {
        return expected.to_string();
    };
    match rest.split_once(" with ") {
        Some((name, count)) => {
            let name = name.rsplit("::").next().unwrap_or(name);
            format!("{} for {name}", count.replace("elements", "values"))
        }
        None => expected.to_string(),
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The token at `offset`, quoted for a message: a string as written, other
/// tokens in backticks, both cut short if long.
fn found(text: &str, offset: usize) -> String {
    const MAX: usize = 40;
    let rest = &text[offset.min(text.len())..];
    let Some(first) = rest.chars().next() else {
        return "the end of the file".to_string();
    };
    let token: &str = if first == '"' {
        let b = rest.as_bytes();
        let mut i = 1;
        while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        let end = if b.get(i) == Some(&b'"') { i + 1 } else { i };
        rest.get(..end.min(rest.len())).unwrap_or(rest)
    } else if first.is_alphanumeric() || "_.+-".contains(first) {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || "_.+-".contains(c)))
            .unwrap_or(rest.len());
        &rest[..end]
    } else {
        &rest[..first.len_utf8()]
    };
    let short = match token.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", escape(&token[..i])),
        None => escape(token).into_owned(),
    };
    if first == '"' {
        short
    } else {
        format!("`{short}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_quotes_tokens_readably() {
        assert_eq!(found("\"abc\", 1", 0), "\"abc\"");
        assert_eq!(found("12.5)", 0), "`12.5`");
        assert_eq!(found("(x)", 0), "`(`");
        assert_eq!(found("x", 1), "the end of the file");
        assert_eq!(
            found(&"a".repeat(100), 0),
            format!("`{}...`", "a".repeat(40))
        );
        assert_eq!(found("\"ab\\\"c", 0), "\"ab\\\"c");
        // A control character is the token; it is quoted escaped.
        assert_eq!(found("\u{0}x", 0), "`\\u{0}`");
        assert_eq!(found("\"a\u{1b}[31m\"", 0), "\"a\\u{1b}[31m\"");
    }

    #[test]
    fn lengths_are_said_without_rust_names() {
        assert_eq!(
            plain_length("tuple variant Dist::Uniform with 2 elements"),
            "2 values for Uniform"
        );
        assert_eq!(plain_length("a tuple of size 2"), "a tuple of size 2");
    }
}
