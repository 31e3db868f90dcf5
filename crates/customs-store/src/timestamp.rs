//! Instants in UTC with microsecond precision, written as RFC 3339
//! (`2026-11-28T12:34:56.123456Z`).
//!
//! SQLite stores this exact text (fixed width, so text order is time order); PostgreSQL stores
//! `timestamptz`, which also has microsecond precision, so both backends round-trip the same
//! value.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant in UTC, in microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    micros: i64,
}

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

    /// Microseconds since the Unix epoch.
    #[must_use]
    pub const fn as_micros(self) -> i64 {
        self.micros
    }
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
// Howard Hinnant's "chrono-Compatible Low-Level Date Algorithms".
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

const MICROS_PER_DAY: i64 = 86_400_000_000;

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.micros.div_euclid(MICROS_PER_DAY);
        let rest = self.micros.rem_euclid(MICROS_PER_DAY);
        let (y, mo, d) = civil_from_days(days);
        let secs = rest / 1_000_000;
        write!(
            f,
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            rest % 1_000_000
        )
    }
}

/// A string that is not `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a UTC RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)")]
pub struct TimestampError(String);

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || TimestampError(s.to_owned());
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
            return Err(bad());
        }
        if b[16] != b':' || b[b.len() - 1] != b'Z' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, TimestampError> {
            let part = s.get(r).ok_or_else(bad)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let frac = &s[19..s.len() - 1];
        let micros = if frac.is_empty() {
            0
        } else {
            let digits = frac.strip_prefix('.').ok_or_else(bad)?;
            if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|c| c.is_ascii_digit())
            {
                return Err(bad());
            }
            let scale = 10_i64.pow(6 - u32::try_from(digits.len()).map_err(|_| bad())?);
            digits.parse::<i64>().map_err(|_| bad())? * scale
        };
        let mo = u32::try_from(mo).map_err(|_| bad())?;
        let d = u32::try_from(d).map_err(|_| bad())?;
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
            return Err(bad());
        }
        let days = days_from_civil(y, mo, d);
        Ok(Self {
            micros: days * MICROS_PER_DAY + (h * 3600 + mi * 60 + sec) * 1_000_000 + micros,
        })
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
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
    fn rejects_garbage() {
        for text in [
            "",
            "2026-11-28",
            "2026-13-01T00:00:00Z",
            "2026-11-28T12:34:56+01:00",
        ] {
            assert!(text.parse::<Timestamp>().is_err(), "{text}");
        }
    }
}
