//! What can be wrong with a version: it is empty, or it (or a range) breaks its ecosystem's
//! syntax.

use std::fmt;

use crate::Ecosystem;

/// A version that its ecosystem's tool would not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionError {
    /// The version is empty (for deb: empty once surrounding whitespace is dropped, as dpkg does).
    #[error("empty {} version", .ecosystem.label())]
    Empty {
        /// Whose rules were applied.
        ecosystem: Ecosystem,
    },
    /// The version breaks the syntax of its ecosystem.
    #[error("invalid {} version {}: {reason}", .ecosystem.label(), Excerpt(.version))]
    Invalid {
        /// Whose rules were applied.
        ecosystem: Ecosystem,
        /// The version as given.
        version: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A version range breaks the syntax of its ecosystem.
    #[error("invalid {} range {}: {reason}", .ecosystem.label(), Excerpt(.range))]
    InvalidRange {
        /// Whose rules were applied.
        ecosystem: Ecosystem,
        /// The range as given.
        range: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl VersionError {
    pub(crate) fn invalid(ecosystem: Ecosystem, version: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            ecosystem,
            version: version.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Shows a string quoted and escaped, cut short when long: versions come from untrusted
/// images, and one error line must not carry 100 kB of it.
pub(crate) struct Excerpt<'a>(pub(crate) &'a str);

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 64;
        let s = self.0;
        if s.len() <= SHOWN {
            return write!(f, "{s:?}");
        }
        let cut = (0..=SHOWN)
            .rev()
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(0);
        write!(f, "{:?}... ({} bytes)", &s[..cut], s.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_version_and_reason() {
        let e = VersionError::invalid(Ecosystem::Deb, "1:", "nothing follows the epoch colon");
        assert_eq!(
            e.to_string(),
            r#"invalid deb version "1:": nothing follows the epoch colon"#
        );
        assert_eq!(
            VersionError::Empty {
                ecosystem: Ecosystem::Rpm
            }
            .to_string(),
            "empty rpm version"
        );
    }

    #[test]
    fn long_versions_are_cut() {
        let long = "é".repeat(100_000);
        let e = VersionError::invalid(Ecosystem::Apk, &long, "bad");
        let msg = e.to_string();
        assert!(msg.len() < 200, "{msg}");
        assert!(msg.contains("(200000 bytes)"), "{msg}");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(Excerpt("a\nb\0").to_string(), r#""a\nb\0""#);
    }
}
