//! Serde helpers for the proto3 JSON mapping (SPEC §2) where it differs from serde's
//! defaults: 64-bit integers travel as strings, `bytes` as base64, and enums as their
//! names, with names this client does not know read as the UNSPECIFIED variant.
//!
//! Wire types use them as `#[serde(with = "crate::json::int64")]`,
//! `#[serde(skip_serializing_if = "crate::json::is_zero")]` and
//! `crate::json::proto_enum! { ... }`.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Unexpected, Visitor};

/// True when `value` is the proto3 zero value of its type (`0`, `false`, the UNSPECIFIED
/// enum variant), which proto3 JSON leaves out when writing.
pub fn is_zero<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// `int64`: written as a JSON string (JavaScript numbers lose precision above 2^53),
/// read from a string or a number.
pub mod int64 {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        deserializer.deserialize_any(super::IntegerVisitor::new())
    }
}

/// `uint64`: as [`int64`], for unsigned values.
pub mod uint64 {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_any(super::IntegerVisitor::new())
    }
}

/// `google.protobuf.Timestamp` (optional, as every timestamp on this API is): RFC 3339
/// text such as `2025-01-31T10:00:20.021Z` or `…+01:00`, written by `time`'s formatter.
pub mod timestamp {
    use serde::de::{Error, Unexpected};
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(
        value: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::option::serialize(value, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        super::parse_rfc3339(&text).map(Some).ok_or_else(|| {
            D::Error::invalid_value(Unexpected::Str(&text), &"an RFC 3339 timestamp")
        })
    }
}

/// RFC 3339's date-time (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t` and `z` may be
/// lower case). Written out rather than taken from `time`'s parser, whose general
/// format-description machinery is several kilobytes of every console page that reads
/// a timestamp; the tests check it against that parser. Digits past nanoseconds are
/// dropped; a leap second (`:60`) is refused.
pub fn parse_rfc3339(text: &str) -> Option<time::OffsetDateTime> {
    use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

    let number = |at| decimal_digits(text, at);
    let separators_hold = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')]
        .iter()
        .all(|&(at, expected)| text.as_bytes().get(at) == Some(&expected));
    if !separators_hold || !matches!(text.as_bytes().get(10), Some(b'T' | b't')) {
        return None;
    }
    let date = Date::from_calendar_date(
        number(0..4)? as i32,
        Month::try_from(number(5..7)? as u8).ok()?,
        number(8..10)? as u8,
    )
    .ok()?;
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let mut rest = text.get(19..)?;
    let mut nanosecond = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        for (place, digit) in fraction
            .bytes()
            .take(9)
            .take_while(u8::is_ascii_digit)
            .enumerate()
        {
            nanosecond += u32::from(digit - b'0') * 10_u32.pow(8 - place as u32);
        }
        rest = &fraction[digits..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => UtcOffset::UTC,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let direction = if *sign == b'-' { -1 } else { 1 };
            let hours = decimal_digits(rest, 1..3).filter(|h| *h < 24)? as i8;
            let minutes = decimal_digits(rest, 4..6).filter(|m| *m < 60)? as i8;
            UtcOffset::from_hms(direction * hours, direction * minutes, 0).ok()?
        }
        _ => return None,
    };
    let time = Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanosecond).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// The number written by the ASCII digits at `at` in `text` (at most 9 of them).
fn decimal_digits(text: &str, at: std::ops::Range<usize>) -> Option<u32> {
    text.get(at)?.bytes().try_fold(0, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// Reads an integer given as a JSON number or as a string holding one, rejecting values
/// out of the target type's range rather than wrapping them.
struct IntegerVisitor<T>(PhantomData<T>);

impl<T> IntegerVisitor<T> {
    fn new() -> Self {
        IntegerVisitor(PhantomData)
    }
}

impl<T> Visitor<'_> for IntegerVisitor<T>
where
    T: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, as a JSON number or a string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse()
            .map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
    }
}

/// `bytes`: written as standard base64 with padding; read from standard or URL-safe
/// base64, padded or not, as the proto3 JSON mapping requires of parsers.
pub mod base64_bytes {
    use base64::Engine;
    use base64::alphabet;
    use base64::engine::DecodePaddingMode;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
    use serde::de::{self, Unexpected};
    use serde::{Deserialize, Deserializer, Serializer};

    const ANY_PADDING: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD_ANY_PADDING: GeneralPurpose =
        GeneralPurpose::new(&alphabet::STANDARD, ANY_PADDING);
    const URL_SAFE_ANY_PADDING: GeneralPurpose =
        GeneralPurpose::new(&alphabet::URL_SAFE, ANY_PADDING);

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        let engine = if text.contains(['-', '_']) {
            URL_SAFE_ANY_PADDING
        } else {
            STANDARD_ANY_PADDING
        };
        engine
            .decode(&text)
            .map_err(|_| de::Error::invalid_value(Unexpected::Str(&text), &"base64 text"))
    }
}

/// Defines a proto3 enum that travels as its name. The first variant is the UNSPECIFIED
/// one: it is the `Default` (the zero value of a missing field) and what any name this
/// client does not know reads as, so that a newer server adding a value never breaks
/// parsing. Wire numbers are not kept: this API only ever writes names (SPEC §2).
///
/// ```text
/// proto_enum! {
///     /// Doc comment of the enum.
///     pub enum Color {
///         Unspecified = "COLOR_UNSPECIFIED",
///         Red = "COLOR_RED",
///     }
/// }
/// ```
macro_rules! proto_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(#[$unspecified_meta:meta])*
            $unspecified:ident = $unspecified_name:literal,
            $( $(#[$variant_meta:meta])* $variant:ident = $variant_name:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        $vis enum $name {
            $(#[$unspecified_meta])*
            #[default]
            $unspecified,
            $( $(#[$variant_meta])* $variant, )*
        }

        impl $name {
            /// The name this value travels as.
            pub fn as_str(self) -> &'static str {
                match self {
                    Self::$unspecified => $unspecified_name,
                    $( Self::$variant => $variant_name, )*
                }
            }

            /// The value with this name; an unknown name is the unspecified value.
            pub fn from_name(name: &str) -> Self {
                match name {
                    $( $variant_name => Self::$variant, )*
                    _ => Self::$unspecified,
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let name = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from_name(&name))
            }
        }
    };
}

pub(crate) use proto_enum;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::format_description::well_known::Rfc3339;
    use time::{OffsetDateTime, UtcOffset};

    proptest! {
        #[test]
        fn timestamps_read_as_time_reads_them(
            seconds in -62_135_596_800_i64..253_402_300_799,
            nanosecond in 0_u32..1_000_000_000,
            offset_minutes in -(23 * 60 + 59)..=(23 * 60 + 59_i32),
        ) {
            let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
            let Ok(at) = OffsetDateTime::from_unix_timestamp(seconds)
                .map(|t| t.replace_nanosecond(nanosecond).unwrap().to_offset(offset))
            else {
                return Ok(());
            };
            // Years before 0000 or after 9999 cannot be written in RFC 3339.
            let Ok(text) = at.format(&Rfc3339) else { return Ok(()) };
            prop_assert_eq!(super::parse_rfc3339(&text), Some(at));
        }

        #[test]
        fn a_changed_character_is_read_as_time_reads_it(
            seconds in 0_i64..4_102_444_800,
            at in 0_usize..25,
            replacement in proptest::sample::select(b"0123456789T:Zz.+- x".to_vec()),
        ) {
            let mut text = OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .replace_millisecond(7)
                .unwrap()
                .to_offset(UtcOffset::from_hms(5, 30, 0).unwrap())
                .format(&Rfc3339)
                .unwrap()
                .into_bytes();
            let at = at % text.len();
            text[at] = replacement;
            let text = String::from_utf8(text).unwrap();
            if at == 10 && !matches!(replacement, b'T' | b't') {
                // time takes any character between date and time; RFC 3339 names `T`.
                prop_assert_eq!(super::parse_rfc3339(&text), None, "{}", text);
            } else if !text.contains(":60") {
                // time reads a leap second as the second before; this parser refuses it.
                prop_assert_eq!(
                    super::parse_rfc3339(&text),
                    OffsetDateTime::parse(&text, &Rfc3339).ok(),
                    "{}", text
                );
            }
        }
    }

    #[test]
    fn timestamps_in_their_written_forms() {
        let parse = super::parse_rfc3339;
        let utc = OffsetDateTime::parse("2025-01-31T10:00:20.021Z", &Rfc3339).unwrap();
        assert_eq!(parse("2025-01-31T10:00:20.021Z"), Some(utc));
        assert_eq!(parse("2025-01-31t10:00:20.021000z"), Some(utc));
        assert_eq!(parse("2025-01-31T11:00:20.021+01:00"), Some(utc));
        assert_eq!(
            parse("2025-01-31T10:00:20.0210000009Z"),
            Some(utc),
            "past ns dropped"
        );
        for bad in [
            "",
            "2025-01-31",
            "2025-01-31T10:00:20",
            "2025-02-30T10:00:20Z",
            "2025-01-31T24:00:00Z",
            "2025-01-31T10:00:20.Z",
            "2025-01-31T10:00:20+0100",
            "2025-01-31T10:00:20+01:00x",
            "2025-01-31 10:00:20Z",
            "２025-01-31T10:00:20Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    use serde::{Deserialize, Serialize};

    use super::*;

    proto_enum! {
        enum Color {
            Unspecified = "COLOR_UNSPECIFIED",
            Red = "COLOR_RED",
            Green = "COLOR_GREEN",
        }
    }

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", default)]
    struct Sample {
        #[serde(with = "int64", skip_serializing_if = "is_zero")]
        count: i64,
        #[serde(with = "uint64", skip_serializing_if = "is_zero")]
        offset: u64,
        #[serde(with = "base64_bytes", skip_serializing_if = "Vec::is_empty")]
        data: Vec<u8>,
        #[serde(skip_serializing_if = "is_zero")]
        color: Color,
    }

    fn parse(json: &str) -> Result<Sample, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn sixty_four_bit_integers_are_written_as_strings() {
        let sample = Sample {
            count: -9_007_199_254_740_993,
            offset: u64::MAX,
            ..Sample::default()
        };
        assert_eq!(
            serde_json::to_string(&sample).unwrap(),
            r#"{"count":"-9007199254740993","offset":"18446744073709551615"}"#
        );
    }

    #[test]
    fn sixty_four_bit_integers_are_read_from_strings_or_numbers() {
        assert_eq!(parse(r#"{"count":"-42","offset":"7"}"#).unwrap().count, -42);
        assert_eq!(parse(r#"{"count":-42,"offset":7}"#).unwrap().offset, 7);
    }

    #[test]
    fn out_of_range_or_non_integer_values_are_rejected() {
        assert!(parse(r#"{"offset":-1}"#).is_err());
        assert!(parse(r#"{"offset":"-1"}"#).is_err());
        assert!(parse(r#"{"count":"18446744073709551615"}"#).is_err());
        assert!(parse(r#"{"count":"12abc"}"#).is_err());
        assert!(parse(r#"{"count":1.5}"#).is_err());
        assert!(parse(r#"{"count":true}"#).is_err());
    }

    #[test]
    fn bytes_are_written_as_padded_standard_base64() {
        let sample = Sample {
            data: vec![0xfb, 0xff, 0x00, 0x61],
            ..Sample::default()
        };
        assert_eq!(
            serde_json::to_string(&sample).unwrap(),
            r#"{"data":"+/8AYQ=="}"#
        );
    }

    #[test]
    fn bytes_are_read_from_standard_or_url_safe_base64_with_or_without_padding() {
        for text in ["+/8AYQ==", "+/8AYQ", "-_8AYQ==", "-_8AYQ"] {
            let json = format!(r#"{{"data":"{text}"}}"#);
            assert_eq!(
                parse(&json).unwrap().data,
                [0xfb, 0xff, 0x00, 0x61],
                "{text}"
            );
        }
        assert!(parse(r#"{"data":"not base64!"}"#).is_err());
    }

    #[test]
    fn enums_are_written_and_read_by_name() {
        let sample = Sample {
            color: Color::Green,
            ..Sample::default()
        };
        let json = serde_json::to_string(&sample).unwrap();
        assert_eq!(json, r#"{"color":"COLOR_GREEN"}"#);
        assert_eq!(parse(&json).unwrap().color, Color::Green);
        assert_eq!(Color::Red.as_str(), "COLOR_RED");
    }

    #[test]
    fn unknown_enum_names_read_as_unspecified() {
        assert_eq!(
            parse(r#"{"color":"COLOR_ULTRAVIOLET"}"#).unwrap().color,
            Color::Unspecified
        );
        assert_eq!(Color::from_name("COLOR_UNSPECIFIED"), Color::Unspecified);
    }

    #[test]
    fn zero_values_are_left_out_and_missing_fields_read_as_zero() {
        assert_eq!(serde_json::to_string(&Sample::default()).unwrap(), "{}");
        assert_eq!(parse("{}").unwrap(), Sample::default());
        assert!(is_zero(&false) && is_zero(&0_i32) && !is_zero(&Color::Red));
    }
}
