//! Bytes from a terminal in raw mode to crossterm key events, decoded the
//! way crossterm 0.29 decodes them for every key the key table can name
//! (characters, Ctrl and Alt chords, Enter, Tab, Backspace, Esc, arrows,
//! Page Up/Down and the other editing keys). Sequences for anything else
//! (function keys, mouse and focus reports, which the dashboard never
//! enables) are consumed and dropped. Any bytes at all decode without
//! panicking, and a sequence split across reads decodes as if it were not.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::collections::VecDeque;

const ESC: u8 = 0x1b;

/// Longest control sequence kept while waiting for its end: past this the
/// bytes cannot be a key, and hostile input must not grow the buffer.
const MAX_SEQUENCE: usize = 64;

/// Bytes of a sequence still incomplete at the end of the last read.
#[derive(Debug, Default)]
pub struct Decoder {
    pending: Vec<u8>,
}

/// What the front of the input holds.
#[derive(Debug, PartialEq)]
enum Decoded {
    /// `len` bytes make up one key, or something to drop (`None`).
    Done(Option<KeyEvent>, usize),
    /// The bytes so far may be the start of a longer sequence.
    Incomplete,
}

impl Decoder {
    /// Decodes `bytes`, which follow whatever came before; a sequence they
    /// leave incomplete waits for the next call.
    pub fn push(&mut self, bytes: &[u8], events: &mut VecDeque<Event>) {
        self.pending.extend_from_slice(bytes);
        let mut at = 0;
        while at < self.pending.len() {
            match decode(&self.pending[at..]) {
                Decoded::Done(key, len) => {
                    events.extend(key.map(Event::Key));
                    at += len;
                }
                Decoded::Incomplete if self.pending.len() - at > MAX_SEQUENCE => {
                    // Not a key however it ends: drop the escape that
                    // started it and decode the rest as typed.
                    at += 1;
                }
                Decoded::Incomplete => break,
            }
        }
        self.pending.drain(..at);
    }

    /// The terminal has nothing more for now: an Escape still waiting was
    /// the Escape key, not the start of a sequence (crossterm decides the
    /// same way). Anything else incomplete keeps waiting.
    pub fn idle(&mut self, events: &mut VecDeque<Event>) {
        if self.pending == [ESC] {
            self.pending.clear();
            events.push_back(Event::Key(key(KeyCode::Esc, KeyModifiers::NONE)));
        }
    }
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new_with_kind(code, modifiers, KeyEventKind::Press)
}

/// Decodes the key at the front of `b` (not empty).
fn decode(b: &[u8]) -> Decoded {
    let plain = |code| Decoded::Done(Some(key(code, KeyModifiers::NONE)), 1);
    let ctrl = |c: u8| Decoded::Done(Some(key(KeyCode::Char(c.into()), KeyModifiers::CONTROL)), 1);
    match b[0] {
        ESC => escape(b),
        b'\r' => plain(KeyCode::Enter),
        b'\t' => plain(KeyCode::Tab),
        0x7f => plain(KeyCode::Backspace),
        // In raw mode \n is Ctrl-J (as in crossterm), \x08 Ctrl-H.
        c @ 0x01..=0x1a => ctrl(c - 0x01 + b'a'),
        c @ 0x1c..=0x1f => ctrl(c - 0x1c + b'4'),
        0x00 => ctrl(b' '),
        _ => utf8(b),
    }
}

/// A character; SHIFT when it is upper case, as crossterm reports it.
fn utf8(b: &[u8]) -> Decoded {
    let len = match b[0] {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        // A stray continuation byte or one never valid in UTF-8.
        _ => return Decoded::Done(None, 1),
    };
    let Some(bytes) = b.get(..len) else {
        // Wait for the rest only if what came so far can still be valid.
        let tail = &b[1..];
        return if tail.iter().all(|&c| c & 0xc0 == 0x80) {
            Decoded::Incomplete
        } else {
            Decoded::Done(None, 1)
        };
    };
    match std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.chars().next())
    {
        Some(c) => {
            let modifiers = if c.is_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            Decoded::Done(Some(key(KeyCode::Char(c), modifiers)), len)
        }
        None => Decoded::Done(None, 1),
    }
}

/// Input starting with Escape: the Escape key, a control sequence, or an
/// Alt chord (Escape then the key).
fn escape(b: &[u8]) -> Decoded {
    match b.get(1) {
        None => Decoded::Incomplete,
        Some(b'[') => csi(b),
        Some(b'O') => ss3(b),
        // Escape twice is one Escape, as crossterm has it.
        Some(&ESC) => Decoded::Done(Some(key(KeyCode::Esc, KeyModifiers::NONE)), 2),
        Some(_) => match decode(&b[1..]) {
            Decoded::Done(Some(mut k), len) => {
                k.modifiers |= KeyModifiers::ALT;
                Decoded::Done(Some(k), len + 1)
            }
            Decoded::Done(None, len) => Decoded::Done(None, len + 1),
            Decoded::Incomplete => Decoded::Incomplete,
        },
    }
}

/// `ESC O x`: cursor keys in application mode, Home/End, F1 to F4.
fn ss3(b: &[u8]) -> Decoded {
    let Some(&x) = b.get(2) else {
        return Decoded::Incomplete;
    };
    Decoded::Done(cursor_key(x).map(|c| key(c, KeyModifiers::NONE)), 3)
}

/// The key a cursor-key final byte names.
fn cursor_key(x: u8) -> Option<KeyCode> {
    Some(match x {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        _ => return None,
    })
}

/// `ESC [` parameters, intermediates and a final byte (ECMA-48).
fn csi(b: &[u8]) -> Decoded {
    // `ESC [ [ A` to `ESC [ [ E`: the Linux console's F1 to F5.
    if b.get(2) == Some(&b'[') {
        return if b.len() < 4 {
            Decoded::Incomplete
        } else {
            Decoded::Done(None, 4)
        };
    }
    let body = &b[2..];
    let Some(end) = body.iter().position(|c| !(0x20..=0x3f).contains(c)) else {
        return Decoded::Incomplete;
    };
    let last = body[end];
    if !(0x40..=0x7e).contains(&last) {
        // Not a control sequence after all: drop what it had so far and
        // decode the byte that broke it as a key of its own.
        return Decoded::Done(None, 2 + end);
    }
    let len = 2 + end + 1;
    let params = &body[..end];
    let mut fields = params.split(|&c| c == b';');
    let first = number(fields.next().unwrap_or_default());
    let modifiers = fields.next().map_or(KeyModifiers::NONE, modifier_mask);
    let code = match last {
        b'Z' if params.is_empty() => {
            return Decoded::Done(Some(key(KeyCode::BackTab, KeyModifiers::SHIFT)), len);
        }
        b'~' => match first {
            Some(1 | 7) => Some(KeyCode::Home),
            Some(2) => Some(KeyCode::Insert),
            Some(3) => Some(KeyCode::Delete),
            Some(4 | 8) => Some(KeyCode::End),
            Some(5) => Some(KeyCode::PageUp),
            Some(6) => Some(KeyCode::PageDown),
            _ => None,
        },
        // `ESC [ A` or `ESC [ 1 ; 5 A` (Ctrl-Up); not private (`ESC [ ? …`).
        x if params.first().is_none_or(u8::is_ascii_digit) => cursor_key(x),
        _ => None,
    };
    Decoded::Done(code.map(|c| key(c, modifiers)), len)
}

/// A decimal parameter; None if empty or not a small number.
fn number(digits: &[u8]) -> Option<u16> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// xterm's modifier parameter: one more than a mask of Shift (1), Alt (2)
/// and Ctrl (4).
fn modifier_mask(field: &[u8]) -> KeyModifiers {
    let mask = number(field).map_or(0, |n| n.saturating_sub(1));
    let mut m = KeyModifiers::NONE;
    for (bit, modifier) in [
        (1, KeyModifiers::SHIFT),
        (2, KeyModifiers::ALT),
        (4, KeyModifiers::CONTROL),
    ] {
        if mask & bit != 0 {
            m |= modifier;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(chunks: &[&[u8]]) -> Vec<KeyEvent> {
        let mut d = Decoder::default();
        let mut events = VecDeque::new();
        for c in chunks {
            d.push(c, &mut events);
        }
        d.idle(&mut events);
        events
            .into_iter()
            .map(|e| match e {
                Event::Key(k) => k,
                other => panic!("not a key: {other:?}"),
            })
            .collect()
    }

    fn k(code: KeyCode) -> KeyEvent {
        key(code, KeyModifiers::NONE)
    }

    fn m(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        key(code, modifiers)
    }

    #[test]
    fn every_key_the_table_names() {
        use KeyCode::*;
        let cases: &[(&[u8], KeyEvent)] = &[
            (b"j", k(Char('j'))),
            (b"J", m(Char('J'), KeyModifiers::SHIFT)),
            (b" ", k(Char(' '))),
            ("é".as_bytes(), k(Char('é'))),
            ("€".as_bytes(), k(Char('€'))),
            ("🦀".as_bytes(), k(Char('🦀'))),
            (b"\x03", m(Char('c'), KeyModifiers::CONTROL)),
            (b"\x1a", m(Char('z'), KeyModifiers::CONTROL)),
            (b"\n", m(Char('j'), KeyModifiers::CONTROL)),
            (b"\x00", m(Char(' '), KeyModifiers::CONTROL)),
            (b"\x1c", m(Char('4'), KeyModifiers::CONTROL)),
            (b"\r", k(Enter)),
            (b"\t", k(Tab)),
            (b"\x7f", k(Backspace)),
            (b"\x1b", k(Esc)),
            (b"\x1b\x1b", k(Esc)),
            (b"\x1b[A", k(Up)),
            (b"\x1b[B", k(Down)),
            (b"\x1b[C", k(Right)),
            (b"\x1b[D", k(Left)),
            (b"\x1bOA", k(Up)),
            (b"\x1bOD", k(Left)),
            (b"\x1b[1;5A", m(Up, KeyModifiers::CONTROL)),
            (b"\x1b[1;2B", m(Down, KeyModifiers::SHIFT)),
            (b"\x1b[5~", k(PageUp)),
            (b"\x1b[6~", k(PageDown)),
            (b"\x1b[3~", k(Delete)),
            (b"\x1b[H", k(Home)),
            (b"\x1b[4~", k(End)),
            (b"\x1b[Z", m(BackTab, KeyModifiers::SHIFT)),
            (b"\x1bj", m(Char('j'), KeyModifiers::ALT)),
            (b"\x1b\r", m(Enter, KeyModifiers::ALT)),
        ];
        for (bytes, want) in cases {
            assert_eq!(keys(&[bytes]), vec![*want], "{bytes:?}");
        }
    }

    #[test]
    fn sequences_for_keys_it_cannot_name_are_dropped() {
        for bytes in [
            &b"\x1b[15~"[..],
            b"\x1bOP",
            b"\x1b[[A",
            b"\x1b[I",
            b"\x1b[O",
            b"\x1b[<0;10;5M",
            b"\x1b[?1;2c",
            b"\x1b[12;40R",
            b"\x1b[200~",
            b"\x80",
            b"\xff",
        ] {
            assert_eq!(keys(&[bytes]), vec![], "{bytes:?}");
        }
        // What follows a dropped sequence still counts.
        assert_eq!(keys(&[b"\x1b[15~q"]), vec![k(KeyCode::Char('q'))]);
        assert_eq!(keys(&[b"\xffq"]), vec![k(KeyCode::Char('q'))]);
        assert_eq!(keys(&[b"\xc3q"]), vec![k(KeyCode::Char('q'))]);
        // A control byte inside a sequence ends it and is a key itself.
        assert_eq!(keys(&[b"\x1b[1\r"]), vec![k(KeyCode::Enter)]);
    }

    #[test]
    fn a_sequence_split_across_reads_waits_for_its_end() {
        assert_eq!(keys(&[b"\x1b", b"[A"]), vec![k(KeyCode::Up)]);
        assert_eq!(keys(&[b"\x1b[", b"1;5", b"A"]).len(), 1);
        assert_eq!(keys(&[b"\xe2\x82", b"\xac"]), vec![k(KeyCode::Char('€'))]);
    }

    #[test]
    fn an_escape_with_nothing_after_it_is_the_escape_key() {
        let mut d = Decoder::default();
        let mut events = VecDeque::new();
        d.push(b"j\x1b", &mut events);
        assert_eq!(events.len(), 1, "Escape may start a sequence: it waits");
        d.idle(&mut events);
        assert_eq!(events.pop_back(), Some(Event::Key(k(KeyCode::Esc))));
    }

    #[test]
    fn an_endless_sequence_is_given_up_and_what_follows_decoded() {
        let mut junk = b"\x1b[".to_vec();
        junk.extend([b'1'; 10_000]);
        junk.push(b'q');
        let mut d = Decoder::default();
        let mut events = VecDeque::new();
        for chunk in junk.chunks(100) {
            d.push(chunk, &mut events);
            assert!(d.pending.len() <= MAX_SEQUENCE);
        }
        d.idle(&mut events);
        let last = events.back().cloned();
        assert_eq!(last, Some(Event::Key(k(KeyCode::Char('q')))));
    }

    /// Byte strings that each decode to exactly one key.
    const WHOLE: &[&[u8]] = &[
        b"j",
        b"Q",
        "é".as_bytes(),
        "🦀".as_bytes(),
        b"\r",
        b"\x7f",
        b"\x03",
        b"\x1b[A",
        b"\x1bOB",
        b"\x1b[1;5C",
        b"\x1b[5~",
        b"\x1bx",
        b"\x1b\x1b",
    ];

    proptest! {
        #[test]
        fn any_bytes_in_any_pieces_decode_without_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..400),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let mut d = Decoder::default();
            let mut events = VecDeque::new();
            let mut at = 0;
            for cut in cuts {
                let end = (at + cut % 50).min(bytes.len());
                d.push(&bytes[at..end], &mut events);
                at = end;
            }
            d.push(&bytes[at..], &mut events);
            d.idle(&mut events);
            prop_assert!(events.len() <= bytes.len());
            prop_assert!(d.pending.len() <= MAX_SEQUENCE);
        }

        #[test]
        fn keys_split_anywhere_decode_as_if_whole(
            picks in proptest::collection::vec(0..WHOLE.len(), 1..40),
            cut in any::<prop::sample::Index>(),
        ) {
            let bytes: Vec<u8> = picks.iter().flat_map(|&i| WHOLE[i].iter().copied()).collect();
            let cut = cut.index(bytes.len() + 1);
            let split = keys(&[&bytes[..cut], &bytes[cut..]]);
            prop_assert_eq!(split.len(), picks.len());
            prop_assert_eq!(split, keys(&[&bytes]));
        }
    }
}
