//! Instants in UTC with microsecond precision, written as RFC 3339
//! (`2026-11-28T12:34:56.123456Z`).
//!
//! The text is fixed-width (always six fraction digits, always `Z`), so text order is time
//! order: SQLite stores exactly this text, PostgreSQL a `timestamptz` (also microseconds), and
//! both round-trip the same value. Feeds write dates more loosely; [`Timestamp::parse_lenient`]
//! reads those.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::excerpt;

/// An instant in UTC, in microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    micros: i64,
}

const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

impl Timestamp {
    /// The current time, truncated to microseconds.
    #[must_use]
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// From microseconds since the Unix epoch.
    #[must_use]
    pub const fn from_micros(micros: i64) -> Self {
        Self { micros }
    }

    /// From whole seconds since the Unix epoch.
    #[must_use]
    pub const fn from_unix_secs(secs: i64) -> Self {
        Self {
            micros: secs.saturating_mul(MICROS_PER_SEC),
        }
    }

    /// Microseconds since the Unix epoch.
    #[must_use]
    pub const fn as_micros(self) -> i64 {
        self.micros
    }

    /// Whole seconds since the Unix epoch (rounded down).
    #[must_use]
    pub const fn unix_secs(self) -> i64 {
        self.micros.div_euclid(MICROS_PER_SEC)
    }

    /// The calendar date, `YYYY-MM-DD`.
    #[must_use]
    pub fn date(self) -> String {
        let (y, m, d) = civil_from_days(self.micros.div_euclid(MICROS_PER_DAY));
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// Whole calendar days from this instant's date to `later`'s (negative if `later` is
    /// earlier): `2025-01-01T23:59Z` to `2025-01-02T00:01Z` is one day.
    #[must_use]
    pub fn days_until(self, later: Self) -> i64 {
        later.micros.div_euclid(MICROS_PER_DAY) - self.micros.div_euclid(MICROS_PER_DAY)
    }

    /// This instant plus `d`, saturating.
    #[must_use]
    pub fn saturating_add(self, d: Duration) -> Self {
        let add = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        Self {
            micros: self.micros.saturating_add(add),
        }
    }

    /// This instant minus `d`, saturating.
    #[must_use]
    pub fn saturating_sub(self, d: Duration) -> Self {
        let sub = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        Self {
            micros: self.micros.saturating_sub(sub),
        }
    }

    /// The time from `earlier` to this instant, zero if `earlier` is later.
    #[must_use]
    pub fn duration_since(self, earlier: Self) -> Duration {
        Duration::from_micros(u64::try_from(self.micros - earlier.micros).unwrap_or(0))
    }

    /// Read a date or time as feeds write it: RFC 3339 with any offset (`+02:00`), a lower-case
    /// `t`/`z` or a space between date and time, up to nanoseconds (truncated), or a date
    /// alone (its midnight, UTC).
    ///
    /// # Errors
    /// Anything else.
    pub fn parse_lenient(s: &str) -> Result<Self, TimestampError> {
        let bad = || TimestampError(s.to_owned());
        let t = s.trim();
        let b = t.as_bytes();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let (y, mo, d) = (digits(t, 0..4)?, digits(t, 5..7)?, digits(t, 8..10)?);
        let date = checked_days(y, mo, d).ok_or_else(bad)?;
        if b.len() == 10 {
            return Ok(Self {
                micros: date * MICROS_PER_DAY,
            });
        }
        if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
            return Err(bad());
        }
        let (h, mi, sec) = (digits(t, 11..13)?, digits(t, 14..16)?, digits(t, 17..19)?);
        if h > 23 || mi > 59 || sec > 60 {
            return Err(bad());
        }
        let mut rest = &t[19..];
        let mut micros = 0;
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 9 {
                return Err(bad());
            }
            let kept = &frac[..n.min(6)];
            micros = digits(kept, 0..kept.len())? * 10_i64.pow(6 - kept.len() as u32);
            rest = &frac[n..];
        }
        let offset_secs = match rest {
            "Z" | "z" | "" => 0,
            _ => {
                let sign = match rest.as_bytes()[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return Err(bad()),
                };
                let off = &rest[1..];
                if off.len() != 5 || off.as_bytes()[2] != b':' {
                    return Err(bad());
                }
                let (oh, om) = (digits(off, 0..2)?, digits(off, 3..5)?);
                if oh > 23 || om > 59 {
                    return Err(bad());
                }
                sign * (oh * 3600 + om * 60)
            }
        };
        let secs = h * 3600 + mi * 60 + sec - offset_secs;
        Ok(Self {
            micros: date * MICROS_PER_DAY + secs * MICROS_PER_SEC + micros,
        })
    }
}

fn digits(s: &str, r: std::ops::Range<usize>) -> Result<i64, TimestampError> {
    let bad = || TimestampError(s.to_owned());
    let part = s.get(r).ok_or_else(bad)?;
    if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    part.parse().map_err(|_| bad())
}

/// Days since 1970-01-01 of a valid date.
fn checked_days(y: i64, m: i64, d: i64) -> Option<i64> {
    let m = u32::try_from(m).ok().filter(|m| (1..=12).contains(m))?;
    let d = u32::try_from(d).ok().filter(|d| (1..=31).contains(d))?;
    let days = days_from_civil(y, m, d);
    // 2023-02-30 comes back as March 2nd: not a date.
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        let micros = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            Err(e) => i64::try_from(e.duration().as_micros()).map_or(i64::MIN, |m| -m),
        };
        Self { micros }
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> Self {
        let magnitude = Duration::from_micros(t.micros.unsigned_abs());
        if t.micros >= 0 {
            UNIX_EPOCH + magnitude
        } else {
            UNIX_EPOCH - magnitude
        }
    }
}

// Days since 1970-01-01 → (year, month, day), and back: the proleptic Gregorian algorithms from
// Howard Hinnant's "chrono-Compatible Low-Level Date Algorithms". The one copy in customs.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.micros.div_euclid(MICROS_PER_DAY);
        let rest = self.micros.rem_euclid(MICROS_PER_DAY);
        let (y, mo, d) = civil_from_days(days);
        let secs = rest / MICROS_PER_SEC;
        write!(
            f,
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            rest % MICROS_PER_SEC
        )
    }
}

/// A string that is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} is not a UTC RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)", excerpt(.0))]
pub struct TimestampError(String);

impl FromStr for Timestamp {
    type Err = TimestampError;

    /// Strict: `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z`, what [`Display`](fmt::Display) writes (and
    /// shorter fractions).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() < 20 || b[10] != b'T' || b[b.len() - 1] != b'Z' {
            return Err(TimestampError(s.to_owned()));
        }
        let frac = s[19..s.len() - 1].strip_prefix('.');
        if frac.is_some_and(|f| f.len() > 6) || (frac.is_none() && b.len() != 20) {
            return Err(TimestampError(s.to_owned()));
        }
        Self::parse_lenient(s).map_err(|_| TimestampError(s.to_owned()))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::parse_lenient(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in [
            "1970-01-01T00:00:00.000000Z",
            "2026-11-28T12:34:56.123456Z",
            "2000-02-29T23:59:59.999999Z",
            "1969-12-31T23:59:59.500000Z",
        ] {
            let t: Timestamp = text.parse().unwrap();
            assert_eq!(t.to_string(), text);
            assert_eq!(Timestamp::from(SystemTime::from(t)), t);
        }
        let t: Timestamp = "2026-11-28T12:34:56Z".parse().unwrap();
        assert_eq!(t.to_string(), "2026-11-28T12:34:56.000000Z");
        assert_eq!(
            "1970-01-02T00:00:00.1Z"
                .parse::<Timestamp>()
                .unwrap()
                .as_micros(),
            MICROS_PER_DAY + 100_000
        );
    }

    #[test]
    fn strict_parse_rejects_garbage() {
        for text in [
            "",
            "2026-11-28",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-28T12:34:56+01:00",
            "2026-11-28T12:34:56.1234567Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T12:34:56ZZ",
        ] {
            assert!(text.parse::<Timestamp>().is_err(), "{text}");
        }
    }

    #[test]
    fn lenient_parse_reads_what_feeds_write() {
        let at = |s: &str| Timestamp::parse_lenient(s).unwrap().to_string();
        assert_eq!(at("2023-05-01"), "2023-05-01T00:00:00.000000Z");
        assert_eq!(
            at("2023-05-01T12:00:00+02:00"),
            "2023-05-01T10:00:00.000000Z"
        );
        assert_eq!(
            at("2023-05-01 12:00:00-00:30"),
            "2023-05-01T12:30:00.000000Z"
        );
        assert_eq!(
            at("2023-05-01t12:00:00.123456789z"),
            "2023-05-01T12:00:00.123456Z"
        );
        assert_eq!(at("2023-05-01T12:00:00"), "2023-05-01T12:00:00.000000Z");
        for bad in [
            "2023-5-1",
            "yesterday",
            "2023-05-01T12:00",
            "2023-05-01T12:00:00+2",
            "2023-05-01X",
        ] {
            assert!(Timestamp::parse_lenient(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn calendar_arithmetic() {
        let t = |s: &str| Timestamp::parse_lenient(s).unwrap();
        assert_eq!(t("2025-01-01").days_until(t("2025-01-31T10:00:00Z")), 30);
        assert_eq!(t("2024-02-28").days_until(t("2024-03-01")), 2);
        assert_eq!(
            t("2025-01-01T23:59:00Z").days_until(t("2025-01-02T00:01:00Z")),
            1
        );
        assert_eq!(t("2024-03-01").days_until(t("2024-02-28")), -2);
        assert_eq!(t("1969-12-31T12:00:00Z").date(), "1969-12-31");
        assert_eq!(Timestamp::from_unix_secs(86_400).date(), "1970-01-02");
        assert_eq!(t("2025-01-01").unix_secs(), 1_735_689_600);
        let a = t("2025-01-01");
        assert_eq!(
            a.saturating_add(Duration::from_secs(90)).duration_since(a),
            Duration::from_secs(90)
        );
    }
}
