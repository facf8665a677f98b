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
