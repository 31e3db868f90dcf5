//! The ordering of "legacy" Python versions: strings that are not PEP 440.
//!
//! pip before version 22 (through `packaging`'s `LegacyVersion`, inherited from setuptools'
//! `parse_version`) still ordered such strings, and the OSV reference vectors do too. The
//! rules, as that scheme documents them:
//!
//! - every legacy version is older than every PEP 440 version;
//! - the lower-cased string is cut into runs of digits, runs of letters `a`-`z`, single `.`
//!   and `-`, and runs of anything else; dots are dropped;
//! - `pre`, `preview` and `rc` become `c`, `dev` becomes `@` (older than any word), and `-`
//!   becomes the word `final-`; a word `final` ends every version;
//! - before a word older than `final`, a preceding `final-` is dropped (so `1.0-rc1` is
//!   `1.0rc1`), and before any word, trailing zero numbers are dropped (`1.0.0a` is `1a`);
//! - the resulting lists compare item by item: words before numbers, words as strings,
//!   numbers as numbers; a list that is a prefix of another is older.
//!
//! One documented difference: the original pads numbers to eight digits and compares the
//! padded strings, which misorders numbers of nine or more digits; here every number compares
//! by value. Only ASCII digits and letters are read as such; other characters are "anything
//! else".

use std::cmp::Ordering;

use crate::digits::{cmp_decimal, strip_leading_zeros};

#[derive(Debug, Clone, Copy)]
enum Part<'a> {
    Word(&'a str),
    Number(&'a str),
}

impl Part<'_> {
    fn cmp(self, other: Self) -> Ordering {
        match (self, other) {
            (Part::Word(a), Part::Word(b)) => a.cmp(b),
            (Part::Word(_), Part::Number(_)) => Ordering::Less,
            (Part::Number(_), Part::Word(_)) => Ordering::Greater,
            (Part::Number(a), Part::Number(b)) => cmp_decimal(a.as_bytes(), b.as_bytes()),
        }
    }

    fn is_zero(self) -> bool {
        matches!(self, Part::Number(n) if strip_leading_zeros(n.as_bytes()).is_empty())
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Class {
    Digit,
    Letter,
    Dot,
    Dash,
    Other,
}

fn class(c: char) -> Class {
    match c {
        '0'..='9' => Class::Digit,
        'a'..='z' => Class::Letter,
        '.' => Class::Dot,
        '-' => Class::Dash,
        _ => Class::Other,
    }
}

/// Cuts a lower-cased version into its runs.
fn pieces(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let kind = class(first);
        let len = match kind {
            Class::Dot | Class::Dash => 1,
            _ => rest
                .char_indices()
                .find(|&(_, c)| class(c) != kind)
                .map_or(rest.len(), |(i, _)| i),
        };
        let (piece, tail) = rest.split_at(len);
        rest = tail;
        Some(piece)
    })
}

/// The list of parts that a lower-cased version compares by.
fn key(lower: &str) -> Vec<Part<'_>> {
    let mut parts: Vec<Part<'_>> = Vec::new();
    for piece in pieces(lower).chain(std::iter::once("final")) {
        let part = match piece {
            "." => continue,
            "pre" | "preview" | "rc" => Part::Word("c"),
            "dev" => Part::Word("@"),
            "-" => Part::Word("final-"),
            p if p.starts_with(|c: char| c.is_ascii_digit()) => Part::Number(p),
            p => Part::Word(p),
        };
        if let Part::Word(word) = part {
            if word < "final" {
                while matches!(parts.last(), Some(Part::Word("final-"))) {
                    parts.pop();
                }
            }
            while parts.last().is_some_and(|p| p.is_zero()) {
                parts.pop();
            }
        }
        parts.push(part);
    }
    parts
}

/// Orders two legacy versions.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.to_lowercase(), b.to_lowercase());
    let (ka, kb) = (key(&a), key(&b));
    ka.iter()
        .zip(&kb)
        .map(|(x, y)| x.cmp(*y))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| ka.len().cmp(&kb.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &str) -> Vec<String> {
        key(v)
            .into_iter()
            .map(|p| match p {
                Part::Word(w) => format!("*{w}"),
                Part::Number(n) => n.to_owned(),
            })
            .collect()
    }

    #[test]
    fn keys() {
        assert_eq!(words("1.0-rc1"), ["1", "*c", "1", "*final"]);
        assert_eq!(words("2.0.0-final"), ["2", "*final-", "*final", "*final"]);
        assert_eq!(words("0.3m1"), ["0", "3", "*m", "1", "*final"]);
        assert_eq!(words("1.0.dev2"), ["1", "*@", "2", "*final"]);
        assert_eq!(
            words("2013-09-11t19:27"),
            [
                "2013", "*final-", "09", "*final-", "11", "*t", "19", "*:", "27", "*final"
            ]
        );
        assert_eq!(words(""), ["*final"]);
    }

    #[test]
    fn ordering() {
        use Ordering::{Equal, Less};
        for (a, b, expected) in [
            ("0.1-bulbasaur", "0.1-charmander", Less),
            ("0.9-ivysaur", "0.9.1-a", Less),
            ("1.0-rc1", "1.0rc1", Equal),
            ("1.0.0a", "1a", Equal),
            ("1.0dev1", "1.0a1x", Less),
            ("4.11-final", "5.0-final", Less),
            ("0.3m1", "0.3m2", Less),
            ("1.0", "1.0-p1", Less),
            ("999999999", "1000000000", Less),
            ("Trunk", "trunk", Equal),
        ] {
            assert_eq!(compare(a, b), expected, "{a} vs {b}");
            assert_eq!(compare(b, a), expected.reverse(), "{b} vs {a}");
        }
    }
}
