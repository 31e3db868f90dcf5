//! Runs of decimal digits compared as numbers of unbounded size.
//!
//! Versions carry dates, timestamps and build numbers well past `u64` (apk-tools' own tests
//! have `_pre20191002222144`, and a hostile image can write anything), so no digit run is ever
//! converted to an integer: after dropping leading zeros the longer run is the larger number,
//! and runs of equal length compare byte by byte.

use std::cmp::Ordering;

/// Compares two runs of ASCII digits by their numeric value; the empty run counts as zero.
pub(crate) fn cmp_decimal(a: &[u8], b: &[u8]) -> Ordering {
    let (a, b) = (strip_leading_zeros(a), strip_leading_zeros(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

pub(crate) fn strip_leading_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[zeros..]
}

/// The end of the run of ASCII digits in `s` that starts at `from`.
pub(crate) fn digit_run_end(s: &[u8], from: usize) -> usize {
    from + s[from..].iter().take_while(|c| c.is_ascii_digit()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_order_without_overflow() {
        assert_eq!(cmp_decimal(b"9", b"10"), Ordering::Less);
        assert_eq!(cmp_decimal(b"0010", b"10"), Ordering::Equal);
        assert_eq!(cmp_decimal(b"", b"000"), Ordering::Equal);
        assert_eq!(cmp_decimal(b"", b"1"), Ordering::Less);
        let huge = "9".repeat(100_000);
        let bigger = format!("1{}", "0".repeat(100_000));
        assert_eq!(
            cmp_decimal(huge.as_bytes(), bigger.as_bytes()),
            Ordering::Less
        );
        assert_eq!(
            cmp_decimal(b"18446744073709551616", b"18446744073709551615"),
            Ordering::Greater
        );
    }

    #[test]
    fn digit_runs() {
        assert_eq!(digit_run_end(b"12a3", 0), 2);
        assert_eq!(digit_run_end(b"12a3", 2), 2);
        assert_eq!(digit_run_end(b"12a3", 3), 4);
        assert_eq!(digit_run_end(b"", 0), 0);
    }
}
