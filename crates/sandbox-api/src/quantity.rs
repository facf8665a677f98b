//! Kubernetes resource quantities (`250m`, `1`, `1.5Gi`, `2e3`), parsed exactly.
//!
//! A quantity is held as a whole number of nano-units, as Kubernetes does, so that
//! `1Gi` and `1073741824` compare equal and `100m` is exactly a tenth of `1`.
//! Precision finer than a nano-unit is rounded up, as Kubernetes rounds it.

use std::cmp::Ordering;
use std::fmt;

const NANOS_PER_UNIT: i128 = 1_000_000_000;
const NANOS_PER_MILLI: i128 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Quantity {
    nanos: i128,
}

impl Quantity {
    pub const ZERO: Quantity = Quantity { nanos: 0 };

    /// Parses the Kubernetes quantity grammar: an optional sign, a decimal number, and
    /// a binary (`Ki`…`Ei`), decimal (`n`, `u`, `m`, `k`, `M`…`E`) or exponent
    /// (`e3`, `E-2`) suffix.
    pub fn parse(text: &str) -> Result<Quantity, String> {
        let invalid =
            || format!("{text:?} is not a quantity (examples: 250m, 1, 1.5, 512Mi, 16Gi)");
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_len);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return Err(invalid());
        }
        let digits = format!("{whole}{fraction}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 30 {
            return Err(format!("{text:?} has too many digits"));
        }
        let mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| invalid())?
        };
        let scale = Scale::of_suffix(suffix).ok_or_else(invalid)?;
        let too_large = || format!("{text:?} is too large");
        let fraction_digits = i32::try_from(fraction.len()).map_err(|_| too_large())?;
        let nanos = match scale {
            Scale::Decimal(exponent) => {
                scale_by_ten(mantissa, exponent + 9 - fraction_digits).ok_or_else(too_large)?
            }
            Scale::Binary(shift) => {
                let whole_nanos = mantissa
                    .checked_mul(1i128 << shift)
                    .and_then(|v| v.checked_mul(NANOS_PER_UNIT))
                    .ok_or_else(too_large)?;
                scale_by_ten(whole_nanos, -fraction_digits).ok_or_else(too_large)?
            }
        };
        Ok(Quantity {
            nanos: if negative { -nanos } else { nanos },
        })
    }

    /// Whole units (cores, bytes) as a quantity.
    pub fn from_units(units: i64) -> Quantity {
        Quantity {
            nanos: i128::from(units) * NANOS_PER_UNIT,
        }
    }

    /// Thousandths of a unit (millicores) as a quantity.
    pub fn from_millis(millis: i64) -> Quantity {
        Quantity {
            nanos: i128::from(millis) * NANOS_PER_MILLI,
        }
    }

    /// The value in thousandths of a unit, rounded up (CPU in millicores), saturating.
    pub fn to_millis(self) -> i64 {
        saturate(div_ceil(self.nanos, NANOS_PER_MILLI))
    }

    /// The value in whole units, rounded up (memory in bytes), saturating.
    pub fn to_units(self) -> i64 {
        saturate(div_ceil(self.nanos, NANOS_PER_UNIT))
    }

    pub fn is_negative(self) -> bool {
        self.nanos < 0
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Quantity) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Quantity) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

/// The shortest exact spelling: a binary suffix for whole multiples of 1024, else
/// plain units, else `m`, else `n` (`16Gi`, `1500`, `250m`, `5n`).
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.nanos;
        if nanos % NANOS_PER_UNIT != 0 {
            return if nanos % NANOS_PER_MILLI == 0 {
                write!(f, "{}m", nanos / NANOS_PER_MILLI)
            } else {
                write!(f, "{nanos}n")
            };
        }
        let units = nanos / NANOS_PER_UNIT;
        for (suffix, shift) in [
            ("Ei", 60),
            ("Pi", 50),
            ("Ti", 40),
            ("Gi", 30),
            ("Mi", 20),
            ("Ki", 10),
        ] {
            let unit = 1i128 << shift;
            if units != 0 && units % unit == 0 {
                return write!(f, "{}{suffix}", units / unit);
            }
        }
        write!(f, "{units}")
    }
}

enum Scale {
    /// Multiply by 10^n.
    Decimal(i32),
    /// Multiply by 2^n.
    Binary(u32),
}

impl Scale {
    fn of_suffix(suffix: &str) -> Option<Scale> {
        Some(match suffix {
            "Ki" => Scale::Binary(10),
            "Mi" => Scale::Binary(20),
            "Gi" => Scale::Binary(30),
            "Ti" => Scale::Binary(40),
            "Pi" => Scale::Binary(50),
            "Ei" => Scale::Binary(60),
            "n" => Scale::Decimal(-9),
            "u" => Scale::Decimal(-6),
            "m" => Scale::Decimal(-3),
            "" => Scale::Decimal(0),
            "k" => Scale::Decimal(3),
            "M" => Scale::Decimal(6),
            "G" => Scale::Decimal(9),
            "T" => Scale::Decimal(12),
            "P" => Scale::Decimal(15),
            "E" => Scale::Decimal(18),
            exponent => {
                let digits = exponent.strip_prefix(['e', 'E'])?;
                let unsigned = digits.strip_prefix(['+', '-']).unwrap_or(digits);
                if unsigned.is_empty()
                    || unsigned.len() > 3
                    || !unsigned.bytes().all(|b| b.is_ascii_digit())
                {
                    return None;
                }
                Scale::Decimal(digits.parse().ok()?)
            }
        })
    }
}

/// `value × 10^power`, rounding a fractional result up (away from zero); `None` on
/// overflow.
fn scale_by_ten(value: i128, power: i32) -> Option<i128> {
    if value == 0 {
        return Some(0);
    }
    if power >= 0 {
        10i128
            .checked_pow(u32::try_from(power).ok()?)
            .and_then(|p| value.checked_mul(p))
    } else {
        // Beyond 10^38 every non-zero value rounds up to one nano-unit.
        match 10i128.checked_pow(power.unsigned_abs()) {
            Some(divisor) => Some(div_ceil(value, divisor)),
            None => Some(value.signum()),
        }
    }
}

/// Division rounding away from zero, as Kubernetes rounds quantities up.
fn div_ceil(value: i128, divisor: i128) -> i128 {
    let quotient = value / divisor;
    if value % divisor == 0 {
        quotient
    } else {
        quotient + value.signum()
    }
}

fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap()
    }

    #[test]
    fn cpu_quantities_convert_to_millicores() {
        assert_eq!(q("250m").to_millis(), 250);
        assert_eq!(q("1").to_millis(), 1000);
        assert_eq!(q("1.5").to_millis(), 1500);
        assert_eq!(q(".5").to_millis(), 500);
        assert_eq!(q("2.").to_millis(), 2000);
        assert_eq!(q("100u").to_millis(), 1, "sub-milli rounds up");
        assert_eq!(q("2e3").to_millis(), 2_000_000);
        assert_eq!(q("5E-1").to_millis(), 500);
    }

    #[test]
    fn memory_quantities_convert_to_bytes() {
        assert_eq!(q("512Mi").to_units(), 512 * 1024 * 1024);
        assert_eq!(q("16Gi").to_units(), 17_179_869_184);
        assert_eq!(q("1.5Gi").to_units(), 1_610_612_736);
        assert_eq!(q("1k").to_units(), 1000);
        assert_eq!(q("1M").to_units(), 1_000_000);
        assert_eq!(q("0.1").to_units(), 1, "a fraction of a byte rounds up");
    }

    #[test]
    fn equal_amounts_compare_equal_whatever_their_spelling() {
        assert_eq!(q("1Gi"), q("1073741824"));
        assert_eq!(q("1000m"), q("1"));
        assert!(q("999m") < q("1"));
        assert!(q("1Gi") > q("1G"));
    }

    #[test]
    fn bad_text_is_rejected_with_an_example() {
        for bad in [
            "", "abc", "1.2.3", "1Gb", "1 Gi", "Gi", "1e", "e3", "1..", "1e1000", "--1",
        ] {
            let error = Quantity::parse(bad).unwrap_err();
            assert!(error.contains(&format!("{bad:?}")), "{bad}: {error}");
        }
        assert!(Quantity::parse("99999999999999999999999999999Ei").is_err());
    }

    #[test]
    fn display_is_the_shortest_exact_spelling() {
        assert_eq!(q("16Gi").to_string(), "16Gi");
        assert_eq!(q("1536Mi").to_string(), "1536Mi");
        assert_eq!(q("1.5Gi").to_string(), "1536Mi");
        assert_eq!(q("1000").to_string(), "1000");
        assert_eq!(q("0.25").to_string(), "250m");
        assert_eq!(q("0").to_string(), "0");
        assert_eq!(Quantity::from_millis(1500).to_string(), "1500m");
        assert_eq!(q("-1Ki").to_string(), "-1Ki");
    }

    proptest! {
        #[test]
        fn display_parses_back_to_the_same_quantity(nanos in -(1i128 << 80)..(1i128 << 80)) {
            let quantity = Quantity { nanos };
            prop_assert_eq!(Quantity::parse(&quantity.to_string()), Ok(quantity));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = Quantity::parse(&text);
        }

        #[test]
        fn parse_never_panics_on_quantity_like_text(text in "[-+]?[0-9.]{0,35}([eE][-+]?[0-9]{0,4}|[KMGTPE]i?|[num])?") {
            let _ = Quantity::parse(&text);
        }
    }
}
