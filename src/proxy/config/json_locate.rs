//! Where a value is written in JSON text, so a value that parsed but makes
//! no sense (an address that does not resolve) is reported at its line and
//! column. A linear scan of brackets, strings and `"key":` pairs.

use crate::lab::locate::Seg;

/// One open container while scanning.
enum Frame {
    /// An object and the key whose value comes next, if read.
    Object(Option<String>),
    /// An array and the index of the item being read.
    Array(usize),
}

/// The byte where the value at `path` starts, or where the nearest
/// enclosing value starts, or 0.
pub(super) fn locate(text: &str, path: &[Seg<'_>]) -> usize {
    (1..=path.len())
        .rev()
        .find_map(|n| find_value(text, &path[..n]))
        .unwrap_or(0)
}

/// The byte where the value at exactly `path` starts, if written.
pub(super) fn find_value(text: &str, path: &[Seg<'_>]) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut expect_value = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if expect_value && b != b']' && b != b'}' && matches_path(&stack, path) {
            return Some(i);
        }
        match b {
            b'{' => {
                stack.push(Frame::Object(None));
                expect_value = false;
            }
            b'[' => {
                stack.push(Frame::Array(0));
                expect_value = true;
            }
            b'}' | b']' => {
                stack.pop();
                expect_value = false;
            }
            b',' => {
                if let Some(Frame::Array(n)) = stack.last_mut() {
                    *n += 1;
                    expect_value = true;
                }
            }
            b':' => expect_value = true,
            b'"' => {
                let end = string_end(bytes, i);
                let in_key_place = matches!(stack.last(), Some(Frame::Object(_))) && !expect_value;
                if in_key_place && let Some(Frame::Object(key)) = stack.last_mut() {
                    *key = Some(text[i + 1..(end - 1).max(i + 1)].to_string());
                }
                expect_value = false;
                i = end;
                continue;
            }
            _ => expect_value = false,
        }
        i += 1;
    }
    None
}

/// The byte after the string starting at `start` (a quote).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The path of the value about to start is the stack itself: each object
/// gives the key being read, each array the item's index.
fn matches_path(stack: &[Frame], path: &[Seg<'_>]) -> bool {
    stack.len() == path.len()
        && stack
            .iter()
            .zip(path)
            .all(|(frame, seg)| match (frame, seg) {
                (Frame::Object(Some(key)), Seg::Field(name)) => key == name,
                (Frame::Array(i), Seg::Item(j)) => i == j,
                _ => false,
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"{
    "listen_addr": ":8080",
    "servers": [
        { "address": "localhost:9001" },
        { "address": "nowhere:9002", "name": "b" }
    ]
}"#;

    fn at(path: &[Seg<'_>]) -> &'static str {
        &TEXT[locate(TEXT, path)..][..6]
    }

    #[test]
    fn finds_a_top_level_value() {
        assert_eq!(at(&[Seg::Field("listen_addr")]), "\":8080");
    }

    #[test]
    fn finds_a_field_of_the_second_list_item() {
        let p = [Seg::Field("servers"), Seg::Item(1), Seg::Field("address")];
        assert_eq!(at(&p), "\"nowhe");
        let p = [Seg::Field("servers"), Seg::Item(1), Seg::Field("name")];
        assert_eq!(at(&p), "\"b\" }\n");
    }

    #[test]
    fn a_missing_field_falls_back_to_its_container() {
        let p = [Seg::Field("servers"), Seg::Item(0), Seg::Field("weight")];
        assert_eq!(at(&p), "{ \"add");
    }
}
