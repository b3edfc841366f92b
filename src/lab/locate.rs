//! Where things are in a lab's text. RON's errors carry a line and column
//! but not the field they are about, and validation of a parsed `Lab` knows
//! the field but not the line. A light scan of brackets, `key:` pairs and
//! list items connects the two without a second full parser.
//!
//! The scan is iterative and linear, so it stays cheap on hostile text
//! (100 000 open brackets, unclosed strings and comments).

use std::fmt;

/// One step of a path into a lab: a named field or a list item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    /// A struct field, `name:` in the text.
    Field(&'a str),
    /// The zero-based item of a `[...]` list.
    Item(usize),
}

/// A path into a lab such as `clients.floods[0].rate`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Path<'a>(pub Vec<Seg<'a>>);

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Field(name) if i == 0 => f.write_str(name)?,
                Seg::Field(name) => write!(f, ".{name}")?,
                Seg::Item(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A 1-based line and column; columns count characters, as RON's do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LineCol {
    pub line: usize,
    pub col: usize,
}

/// The line and column of byte `offset` (clamped to the text).
pub(crate) fn line_col(text: &str, offset: usize) -> LineCol {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    LineCol {
        line: 1 + before.bytes().filter(|&b| b == b'\n').count(),
        col: 1 + before[line_start..].chars().count(),
    }
}

/// The byte offset of a line and column (clamped to the text).
pub(crate) fn offset_of(text: &str, at: LineCol) -> usize {
    let mut line_start = 0;
    for _ in 1..at.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    text[line_start..]
        .char_indices()
        .nth(at.col.saturating_sub(1))
        .map_or(text.len(), |(i, _)| line_start + i)
}

/// The first byte at or after `i` that is neither whitespace nor comment.
pub(crate) fn skip_blank(text: &str, mut i: usize) -> usize {
    let b = text.as_bytes();
    loop {
        match (b.get(i), b.get(i + 1)) {
            (Some(c), _) if c.is_ascii_whitespace() => i += 1,
            (Some(b'/'), Some(b'/')) => {
                i = text[i..].find('\n').map_or(text.len(), |n| i + n + 1);
            }
            (Some(b'/'), Some(b'*')) => i = skip_block_comment(b, i),
            _ => return i.min(text.len()),
        }
    }
}

/// Past a `/* ... */` comment starting at `i`; RON lets them nest.
fn skip_block_comment(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        if b[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if b[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// Past a `"..."` string whose opening quote is at `i`.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Past a raw string `r#"..."#` whose `r` is at `i`, if one starts there.
fn skip_raw_string(b: &[u8], i: usize) -> Option<usize> {
    let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
    if b.get(i + 1 + hashes) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    let body = i + 2 + hashes;
    Some(
        b[body..]
            .windows(close.len())
            .position(|w| w == close.as_slice())
            .map_or(b.len(), |n| body + n + close.len()),
    )
}

/// Past a `'x'` character literal at `i`; a lone quote is one byte.
fn skip_char(b: &[u8], i: usize) -> usize {
    let start = if b.get(i + 1) == Some(&b'\\') {
        i + 3
    } else {
        i + 2
    };
    // A char literal is short; looking further would swallow real text
    // after a stray quote.
    (start..(start + 8).min(b.len()))
        .find(|&j| b[j] == b'\'')
        .map_or(i + 1, |j| j + 1)
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// One open bracket and what the scan knows inside it.
#[derive(Clone, Copy, Debug)]
struct Frame<'a> {
    open: u8,
    /// Byte offset of the bracket.
    at: usize,
    /// The last `key:` seen directly inside, for `(` frames.
    key: Option<&'a str>,
    /// Items finished so far, for `[` frames.
    item: usize,
}

/// Walks the text token by token, keeping the stack of open brackets.
struct Scanner<'a> {
    text: &'a str,
    i: usize,
    frames: Vec<Frame<'a>>,
}

/// What the scanner found at one token, when it matters to callers.
enum Found {
    /// A `key:` pair; the value starts at this byte.
    Key { value_at: usize },
    /// Anything else.
    Other,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            text,
            i: 0,
            frames: Vec::new(),
        }
    }

    /// Advances over one token that starts before `stop`; `None` once the
    /// next token starts at or after it.
    fn step(&mut self, stop: usize) -> Option<Found> {
        let b = self.text.as_bytes();
        self.i = skip_blank(self.text, self.i);
        let i = self.i;
        if i >= stop.min(b.len()) {
            return None;
        }
        let c = b[i];
        match c {
            b'(' | b'[' | b'{' => {
                self.frames.push(Frame {
                    open: c,
                    at: i,
                    key: None,
                    item: 0,
                });
                self.i += 1;
            }
            b')' | b']' | b'}' => {
                self.frames.pop();
                self.i += 1;
            }
            b',' => {
                if let Some(f) = self.frames.last_mut().filter(|f| f.open == b'[') {
                    f.item += 1;
                }
                self.i += 1;
            }
            b'"' => self.i = skip_string(b, i),
            b'\'' => self.i = skip_char(b, i),
            b'r' | b'b' => {
                let r = if c == b'b' && b.get(i + 1) == Some(&b'r') {
                    i + 1
                } else {
                    i
                };
                if c == b'b' && matches!(b.get(i + 1), Some(b'"')) {
                    self.i = skip_string(b, i + 1);
                } else if c == b'b' && matches!(b.get(i + 1), Some(b'\'')) {
                    self.i = skip_char(b, i + 1);
                } else if let Some(end) = (b[r] == b'r').then(|| skip_raw_string(b, r)).flatten() {
                    self.i = end;
                } else {
                    return Some(self.ident());
                }
            }
            c if is_ident_byte(c) && !c.is_ascii_digit() => return Some(self.ident()),
            _ => {
                // Numbers and punctuation: one run at a time is enough, as
                // none of them can open a key or a bracket.
                let run = b[i..]
                    .iter()
                    .take_while(|&&c| is_ident_byte(c) || c == b'.')
                    .count();
                self.i += run.max(1);
            }
        }
        Some(Found::Other)
    }

    /// An identifier, or a raw one (`r#name`), at `self.i`.
    fn ident(&mut self) -> Found {
        let b = self.text.as_bytes();
        let raw = b[self.i..].starts_with(b"r#");
        let start = if raw { self.i + 2 } else { self.i };
        let len = b[start..].iter().take_while(|&&c| is_ident_byte(c)).count();
        let end = start + len;
        self.i = end.max(self.i + 1);
        let after = skip_blank(self.text, end);
        if len == 0 || b.get(after) != Some(&b':') {
            return Found::Other;
        }
        let name = &self.text[start..end];
        if let Some(f) = self.frames.last_mut().filter(|f| f.open == b'(') {
            f.key = Some(name);
        }
        self.i = after + 1;
        Found::Key {
            value_at: skip_blank(self.text, after + 1),
        }
    }

    /// The path the open brackets describe. `innermost` says whether the
    /// last bracket's own key or item counts: it does for an error about a
    /// value, not for one about the struct or list as a whole.
    fn path(&self, innermost: bool) -> Path<'a> {
        let n = self.frames.len();
        let frames = if innermost {
            &self.frames[..]
        } else {
            &self.frames[..n.saturating_sub(1)]
        };
        Path(
            frames
                .iter()
                .filter_map(|f| match f.open {
                    b'[' => Some(Seg::Item(f.item)),
                    b'(' => f.key.map(Seg::Field),
                    _ => None,
                })
                .collect(),
        )
    }
}

/// What encloses a position in the text.
#[derive(Clone, Debug)]
pub(crate) struct Context<'a> {
    /// The field path.
    pub path: Path<'a>,
    /// The innermost open bracket and its byte offset, if any.
    pub open: Option<(u8, usize)>,
}

/// What encloses byte `offset`; see [`Scanner::path`] for `innermost`.
pub(crate) fn context_at(text: &str, offset: usize, innermost: bool) -> Context<'_> {
    let mut scan = Scanner::new(text);
    while scan.step(offset).is_some() {}
    Context {
        path: scan.path(innermost),
        open: scan.frames.last().map(|f| (f.open, f.at)),
    }
}

/// How far the line holding byte `offset` is indented, in characters.
pub(crate) fn indent_of_line(text: &str, offset: usize) -> usize {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    text[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .count()
}

/// The byte where the value at `path` starts, or where the nearest
/// enclosing field's value starts, or else the first token of the text.
pub(crate) fn locate(text: &str, path: &[Seg<'_>]) -> usize {
    (1..=path.len())
        .rev()
        .filter(|&n| matches!(path[n - 1], Seg::Field(_)))
        .find_map(|n| find_value(text, &path[..n]))
        .unwrap_or_else(|| skip_blank(text, 0))
}

/// The byte where the list item at `path` (ending in an item, as
/// `timeline[3]` or a script's `[3]`) starts, if there is one.
pub(crate) fn locate_item(text: &str, path: &[Seg<'_>]) -> Option<usize> {
    let mut scan = Scanner::new(text);
    loop {
        let at = skip_blank(text, scan.i);
        scan.step(usize::MAX)?;
        if scan.path(true).0.starts_with(path) {
            // The list's opening bracket (before its first item) and the
            // separator before any other item already count as inside it.
            let start = match text[at..].strip_prefix([',', '[']) {
                Some(_) => skip_blank(text, at + 1),
                None => at,
            };
            // A trailing separator is followed by the list's end, not an item.
            return (!text[start..].starts_with(']')).then_some(start);
        }
    }
}

/// The byte where the value of the field at `path` starts, if written.
fn find_value(text: &str, path: &[Seg<'_>]) -> Option<usize> {
    let mut scan = Scanner::new(text);
    while let Some(found) = scan.step(usize::MAX) {
        if let Found::Key { value_at } = found
            && scan.path(true).0 == path
        {
            return Some(value_at);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAB: &str = r##"// a comment with (brackets and key: pairs
Lab(
    name: "x: (y",
    /* nested /* comment */ servers: */
    servers: List([
        (name: "a"),
        (name: r#"b)"#, weight: 2),
    ]),
    clients: (closed: Some((population: 3, segments: Uniform(1, 2)))),
)
"##;

    fn at(text: &str, needle: &str) -> usize {
        text.find(needle).unwrap()
    }

    #[test]
    fn items_are_found_at_their_start() {
        let item = [Seg::Field("servers"), Seg::Item(1)];
        let found = locate_item(LAB, &item).map(|at| &LAB[at..]);
        assert!(
            found.is_some_and(|t| t.starts_with("(name: r#")),
            "{found:?}"
        );
        let script = "[\n  At(\"1s\", StopFlood),\n  At(\"2s\", KillServer(\"b\")),\n]";
        let found = locate_item(script, &[Seg::Item(1)]).map(|at| &script[at..]);
        assert!(
            found.is_some_and(|t| t.starts_with("At(\"2s\"")),
            "{found:?}"
        );
        assert_eq!(locate_item(script, &[Seg::Item(2)]), None);
        let found = locate_item(script, &[Seg::Item(0)]).map(|at| &script[at..]);
        assert!(
            found.is_some_and(|t| t.starts_with("At(\"1s\"")),
            "{found:?}"
        );
    }

    #[test]
    fn paths_name_fields_and_list_items() {
        let ctx = context_at(LAB, at(LAB, "2),"), true);
        assert_eq!(ctx.path.to_string(), "servers[1].weight");
        assert_eq!(ctx.open, Some((b'(', at(LAB, "(name: r#"))));
        let ctx = context_at(LAB, at(LAB, "1, 2"), true);
        assert_eq!(ctx.path.to_string(), "clients.closed.segments");
        let ctx = context_at(LAB, at(LAB, "population"), false);
        assert_eq!(ctx.path.to_string(), "clients.closed");
    }

    #[test]
    fn strings_and_comments_do_not_count() {
        let ctx = context_at(LAB, at(LAB, "servers: List"), false);
        assert_eq!(ctx.path.to_string(), "");
        assert_eq!(ctx.open, Some((b'(', at(LAB, "Lab(") + 3)));
    }

    #[test]
    fn locate_finds_values_and_falls_back_to_enclosing_fields() {
        let name = [Seg::Field("servers"), Seg::Item(1), Seg::Field("name")];
        assert!(LAB[locate(LAB, &name)..].starts_with("r#\"b)\"#"));
        let missing = [
            Seg::Field("clients"),
            Seg::Field("open"),
            Seg::Field("rate"),
        ];
        assert!(LAB[locate(LAB, &missing)..].starts_with("(closed"));
        assert!(LAB[locate(LAB, &[Seg::Field("nowhere")])..].starts_with("Lab("));
    }

    #[test]
    fn indentation_counts_leading_blanks() {
        assert_eq!(indent_of_line("a\n    b: 1", 9), 4);
        assert_eq!(indent_of_line("(b: 1)", 3), 0);
    }

    #[test]
    fn line_col_and_offset_agree() {
        let text = "ab\nµs: 1\n";
        for offset in [0, 1, 3, 5, 6, text.len()] {
            assert_eq!(offset_of(text, line_col(text, offset)), offset);
        }
        assert_eq!(line_col(text, 5), LineCol { line: 2, col: 2 });
    }

    #[test]
    fn hostile_text_is_scanned_without_trouble() {
        let deep = "(".repeat(100_000);
        let ctx = context_at(&deep, deep.len(), true);
        assert!(ctx.path.0.is_empty());
        for text in [
            "\"unclosed",
            "/* unclosed",
            "r##\"x\"#",
            "'",
            "b'",
            "r#",
            "br",
        ] {
            let _ = context_at(text, text.len(), true);
            let _ = locate(text, &[Seg::Field("x")]);
        }
    }
}
