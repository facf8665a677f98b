//! How sizes and CPU read to a person; identical to the Python client's helpers.

/// Bytes in the largest binary unit (KiB…TiB) that is at least 1, with one decimal
/// (`17179869184` → `"16.0 GiB"`); below 1 KiB, whole bytes (`"512 B"`, `"0 B"`).
pub fn format_bytes(bytes: i64) -> String {
    const UNITS: [(&str, i64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    UNITS
        .iter()
        .find(|(_, size)| bytes.unsigned_abs() >= size.unsigned_abs())
        .map(|(unit, size)| format!("{} {unit}", one_decimal(bytes, *size)))
        .unwrap_or_else(|| format!("{bytes} B"))
}

/// Millicores as vCPU with one decimal (`4000` → `"4.0 vCPU"`, `500` → `"0.5 vCPU"`).
pub fn format_cpu(millicores: i64) -> String {
    format!("{} vCPU", one_decimal(millicores, 1000))
}

/// `numerator / denominator` with one decimal, exactly as Python's `f"{x:.1f}"` (and
/// Rust's `{:.1}`) write the float quotient: its exact binary value rounded half to
/// even. Done with integers because float formatting is a sizeable part of the
/// console's download and this is the only place that needs it.
fn one_decimal(numerator: i64, denominator: i64) -> String {
    let quotient = numerator as f64 / denominator as f64;
    let sign = if quotient < 0.0 { "-" } else { "" };
    let bits = quotient.abs().to_bits();
    let biased_exponent = (bits >> 52) & 0x7ff;
    let fraction = bits & ((1 << 52) - 1);
    // quotient = mantissa × 2^exponent, exactly.
    let (mantissa, exponent) = if biased_exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased_exponent as i64 - 1075)
    };
    let scaled = u128::from(mantissa) * 10;
    let tenths = if exponent >= 0 {
        // Only quotients of at least 2^52 get here; an i64 quotient stays below 2^63.
        scaled << exponent
    } else if exponent <= -127 {
        // Below 2^-74, far from 0.05: rounds to zero.
        0
    } else {
        let shift = exponent.unsigned_abs();
        let whole = scaled >> shift;
        let rest = scaled & ((1 << shift) - 1);
        let half = 1 << (shift - 1);
        if rest > half || (rest == half && whole % 2 == 1) {
            whole + 1
        } else {
            whole
        }
    };
    format!("{sign}{}.{}", tenths / 10, tenths % 10)
}

/// How many decimals [`format_scaled`] keeps at most.
const SCALED_DECIMALS: u32 = 6;

/// `value / unit` as a plain decimal for an input field: at most six decimals, no
/// trailing zeros (`1610612736` in GiB → `"1.5"`, `500` millicores in vCPU → `"0.5"`).
/// `unit` is positive.
pub fn format_scaled(value: i64, unit: i64) -> String {
    let scale = 10_u128.pow(SCALED_DECIMALS);
    let unit = u128::from(unit.unsigned_abs().max(1));
    // Rounded half up to the last kept decimal.
    let millionths = (u128::from(value.unsigned_abs()) * scale * 2 + unit) / (unit * 2);
    let sign = if value < 0 && millionths > 0 { "-" } else { "" };
    let whole = millionths / scale;
    let fraction = format!("{:06}", millionths % scale);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

/// An amount typed in units of `unit` (`"1.5"`, `".5"`, `"2e3"`) as a whole number of
/// the base unit, rounded half up (`"1.5"` GiB → `1610612736`). `None` for anything
/// that is not a non-negative decimal or does not fit an `i64`.
pub fn parse_scaled(text: &str, unit: i64) -> Option<i64> {
    let text = text.trim();
    let (number, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    // The amount is digits × 10^power.
    let power = i64::from(exponent) - fraction.len() as i64;
    if digits.is_empty() {
        return Some(0);
    }
    // Past 38 digits a u128 overflows, and any such non-zero amount is out of range
    // unless the power brings it back, which no one types.
    if digits.len() > 38 || power.abs() > 38 {
        return None;
    }
    let mantissa: u128 = digits.parse().ok()?;
    let unit = u128::from(unit.unsigned_abs());
    let scaled = mantissa.checked_mul(unit)?;
    let base_units = if power >= 0 {
        scaled.checked_mul(10_u128.pow(power as u32))?
    } else {
        let divisor = 10_u128.pow(power.unsigned_abs() as u32);
        // Half up, without adding to `scaled` (which may be near u128::MAX).
        scaled / divisor + u128::from(scaled % divisor >= divisor - divisor / 2)
    };
    i64::try_from(base_units).ok()
}

/// A proto enum value as a person reads it: the type prefix dropped, first letter
/// capitalised (`RUNNER_INSTALL_STATUS_READY` with prefix `RUNNER_INSTALL_STATUS_` →
/// `"Ready"`, `RELEASE_CHANNEL_RAPID` → `"Rapid"`).
pub fn format_enum(value: &str, prefix: &str) -> String {
    let words = value
        .strip_prefix(prefix)
        .unwrap_or(value)
        .replace('_', " ");
    // Enum names are ASCII; ASCII case mapping also keeps Unicode's tables out of the
    // console's bundle.
    let mut text = words.to_ascii_lowercase();
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text
}

/// A span of time as a person says it, to its largest unit or two: `"45 s"`,
/// `"3 min 20 s"`, `"2 h 5 min"`, `"3 days 4 h"`.
pub fn format_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (days, hours, minutes, rest) = (
        seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    let day_word = if days == 1 { "day" } else { "days" };
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{rest} s"),
        (0, 0, _) if rest == 0 => format!("{minutes} min"),
        (0, 0, _) => format!("{minutes} min {rest} s"),
        (0, _, 0) => format!("{hours} h"),
        (0, _, _) => format!("{hours} h {minutes} min"),
        (_, 0, _) => format!("{days} {day_word}"),
        _ => format!("{days} {day_word} {hours} h"),
    }
}

/// When something happened, from `now`, as a person says it: `"just now"`,
/// `"5 min ago"`, `"2 h ago"`, `"3 days ago"` (to the largest unit), or `"in 2 min"` for
/// a clock ahead of ours.
pub fn format_ago(seconds_ago: i64) -> String {
    let (ahead, seconds) = (seconds_ago < 0, seconds_ago.abs());
    let text = match seconds {
        0..10 => return "just now".to_owned(),
        10..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        3600..86_400 => format!("{} h", seconds / 3600),
        _ if seconds < 2 * 86_400 => "1 day".to_owned(),
        _ => format!("{} days", seconds / 86_400),
    };
    if ahead {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spans_and_moments_read_as_a_person_says_them() {
        use super::{format_ago, format_duration};
        assert_eq!(format_duration(45), "45 s");
        assert_eq!(format_duration(200), "3 min 20 s");
        assert_eq!(format_duration(180), "3 min");
        assert_eq!(format_duration(7500), "2 h 5 min");
        assert_eq!(format_duration(7200), "2 h");
        assert_eq!(format_duration(86_400 + 4 * 3600 + 60), "1 day 4 h");
        assert_eq!(format_duration(3 * 86_400 + 60), "3 days");
        assert_eq!(format_duration(-5), "0 s");
        assert_eq!(format_ago(3), "just now");
        assert_eq!(format_ago(42), "42 s ago");
        assert_eq!(format_ago(5 * 60 + 59), "5 min ago");
        assert_eq!(format_ago(2 * 3600), "2 h ago");
        assert_eq!(format_ago(30 * 3600), "1 day ago");
        assert_eq!(format_ago(3 * 86_400), "3 days ago");
        assert_eq!(format_ago(-120), "in 2 min");
    }

    use super::*;

    #[test]
    fn enums_read_as_words() {
        assert_eq!(
            format_enum("RUNNER_INSTALL_STATUS_READY", "RUNNER_INSTALL_STATUS_"),
            "Ready"
        );
        assert_eq!(
            format_enum("SANDBOX_STATUS_NOT_FOUND", "SANDBOX_STATUS_"),
            "Not found"
        );
        assert_eq!(format_enum("ODD", "RELEASE_CHANNEL_"), "Odd");
        assert_eq!(format_enum("", "X_"), "");
    }

    #[test]
    fn bytes_match_the_python_client() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1024), "1.0 KiB");
        assert_eq!(
            format_bytes(1280),
            "1.2 KiB",
            "an exact tie rounds to even, as Python does"
        );
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(17_179_869_184), "16.0 GiB");
        assert_eq!(format_bytes(1024 * 1024 * 1024 * 1024 * 3), "3.0 TiB");
        assert_eq!(format_bytes(1024_i64.pow(5)), "1024.0 TiB");
    }

    #[test]
    fn cpu_matches_the_python_client() {
        assert_eq!(format_cpu(4000), "4.0 vCPU");
        assert_eq!(format_cpu(500), "0.5 vCPU");
        assert_eq!(format_cpu(250), "0.2 vCPU");
        assert_eq!(format_cpu(1750), "1.8 vCPU");
        assert_eq!(format_cpu(0), "0.0 vCPU");
        assert_eq!(
            format_cpu(1050),
            "1.1 vCPU",
            "1.05 is a little above 1.05 in binary"
        );
        assert_eq!(format_cpu(-1500), "-1.5 vCPU");
    }

    #[test]
    fn scaled_amounts_read_back_as_typed() {
        const GIB: i64 = 1 << 30;
        assert_eq!(format_scaled(0, GIB), "0");
        assert_eq!(format_scaled(3 * GIB / 2, GIB), "1.5");
        assert_eq!(format_scaled(500, 1000), "0.5");
        assert_eq!(format_scaled(7, 1), "7");
        assert_eq!(parse_scaled("1.5", GIB), Some(3 * GIB / 2));
        assert_eq!(parse_scaled(" .5 ", 1000), Some(500));
        assert_eq!(parse_scaled("2.", 1000), Some(2000));
        assert_eq!(parse_scaled("2e3", 1), Some(2000));
        assert_eq!(parse_scaled("1.5E-3", 1000), Some(2), "1.5 rounds half up");
        assert_eq!(parse_scaled("0.0001", GIB), Some(107_374));
        assert_eq!(format_scaled(107_374, GIB), "0.0001");
        assert_eq!(parse_scaled("000", 1000), Some(0));
        assert_eq!(
            parse_scaled("0.340282366920938463463374607431768211", 1000),
            Some(340),
            "no overflow when rounding a long fraction"
        );
        for bad in [
            "",
            ".",
            "-1",
            "1,5",
            "abc",
            "1e",
            "1.2.3",
            "99999999999",
            "1e99",
        ] {
            assert_eq!(parse_scaled(bad, GIB), None, "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn one_decimal_is_the_float_formatting(
            numerator in proptest::prelude::any::<i64>(),
            unit in proptest::sample::select(vec![1000_i64, 1 << 10, 1 << 20, 1 << 30, 1 << 40]),
        ) {
            let expected = format!("{:.1}", numerator as f64 / unit as f64);
            proptest::prop_assert_eq!(one_decimal(numerator, unit), expected);
        }

        #[test]
        fn small_quotients_match_too(numerator in -100_000_i64..100_000, unit in 1_i64..5000) {
            let expected = format!("{:.1}", numerator as f64 / unit as f64);
            proptest::prop_assert_eq!(one_decimal(numerator, unit), expected);
        }

        #[test]
        fn a_formatted_amount_parses_back_to_within_a_millionth(
            value in 0_i64..(1 << 50),
            unit in proptest::sample::select(vec![1_i64, 1000, 1 << 30]),
        ) {
            let parsed = parse_scaled(&format_scaled(value, unit), unit).unwrap();
            proptest::prop_assert!((parsed - value).abs() * 1_000_000 <= unit);
        }
    }
}
