//! Where each field of a YAML or JSON text starts, so that a violation's field path
//! can be shown at its exact line and column.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::field_path::FieldPath;

/// A 1-based line and column in the text the user typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl Position {
    pub const START: Position = Position { line: 1, column: 1 };
}

/// Every field path of a document mapped to the position of its key (for a list item,
/// of the item).
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    positions: HashMap<FieldPath, Position>,
}

impl SourceMap {
    /// Maps `text` (YAML, or JSON, which YAML reads too). `None` when the text does not
    /// parse: its syntax error carries its own position.
    pub fn of(text: &str) -> Option<SourceMap> {
        let root: Node = serde_saphyr::from_str(text).ok()?;
        let mut map = SourceMap::default();
        map.record(&FieldPath::root(), &root);
        Some(map)
    }

    /// The position of `path`, or of its nearest ancestor present in the text (a
    /// missing required field is shown on its parent's line).
    pub fn position(&self, path: &FieldPath) -> Position {
        let mut segments = path.segments().to_vec();
        loop {
            if let Some(position) = self
                .positions
                .get(&FieldPath::from_segments(segments.clone()))
            {
                return *position;
            }
            if segments.pop().is_none() {
                return Position::START;
            }
        }
    }

    fn record(&mut self, path: &FieldPath, node: &Node) {
        match &node.0.value {
            NodeKind::Scalar => {}
            NodeKind::Seq(items) => {
                for (index, item) in items.iter().enumerate() {
                    let item_path = path.index(index);
                    self.positions
                        .insert(item_path.clone(), position_of(&item.0));
                    self.record(&item_path, item);
                }
            }
            NodeKind::Map(entries) => {
                for (key, value) in entries {
                    let key_path = path.key(&key.value.0);
                    self.positions.insert(key_path.clone(), position_of(key));
                    self.record(&key_path, value);
                }
            }
        }
    }
}

fn position_of<T>(spanned: &Spanned<T>) -> Position {
    let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX).max(1);
    Position {
        line: clamp(spanned.referenced.line()),
        column: clamp(spanned.referenced.column()),
    }
}

/// A YAML node with its position; only the shape is kept, not scalar values.
struct Node(Spanned<NodeKind>);

enum NodeKind {
    Scalar,
    Seq(Vec<Node>),
    Map(Vec<(Spanned<KeyText>, Node)>),
}

/// A mapping key as text, whatever scalar type YAML gave it.
struct KeyText(String);

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        Spanned::<NodeKind>::deserialize(deserializer).map(Node)
    }
}

impl<'de> Deserialize<'de> for NodeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<NodeKind, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

macro_rules! scalar_visits {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method<E: de::Error>(self, _: $ty) -> Result<NodeKind, E> {
            Ok(NodeKind::Scalar)
        })*
    };
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = NodeKind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    scalar_visits!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_i128: i128,
        visit_u128: u128, visit_f64: f64, visit_str: &str, visit_bytes: &[u8]);

    fn visit_unit<E: de::Error>(self) -> Result<NodeKind, E> {
        Ok(NodeKind::Scalar)
    }

    fn visit_none<E: de::Error>(self) -> Result<NodeKind, E> {
        Ok(NodeKind::Scalar)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<NodeKind, D::Error> {
        NodeKind::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeKind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            entries.push((key, map.next_value::<Node>()?));
        }
        Ok(NodeKind::Map(entries))
    }
}

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KeyText, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".into()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(map: &SourceMap, path: &str) -> (u32, u32) {
        let p = map.position(&FieldPath::parse(path).unwrap());
        (p.line, p.column)
    }

    #[test]
    fn yaml_fields_map_to_their_key_positions() {
        let text = "display_name: a\nspec:\n  network:\n    egress:\n      default: allowlist\n      modes:\n        allowlist: {type: allowlist, cidrs: [10.0.0.0/8, bad]}\n";
        let map = SourceMap::of(text).unwrap();
        assert_eq!(at(&map, "display_name"), (1, 1));
        assert_eq!(at(&map, "spec.network.egress.default"), (5, 7));
        assert_eq!(
            at(&map, "spec.network.egress.modes.allowlist.type"),
            (7, 21)
        );
        assert_eq!(
            at(&map, "spec.network.egress.modes.allowlist.cidrs[1]").0,
            7
        );
        // A missing field is shown where its parent is.
        assert_eq!(at(&map, "spec.network.egress.modes.allowlist.nope"), (7, 9));
        assert_eq!(at(&map, "nothing.here"), (1, 1));
    }

    #[test]
    fn json_fields_map_to_their_key_positions() {
        let text =
            "{\n  \"displayName\": \"a\",\n  \"spec\": {\n    \"runtimeClass\": \"Bad\"\n  }\n}\n";
        let map = SourceMap::of(text).unwrap();
        assert_eq!(at(&map, "spec.runtimeClass"), (4, 5));
        assert_eq!(at(&map, "displayName"), (2, 3));
    }

    #[test]
    fn keys_with_dots_are_found_in_brackets() {
        let text = "labels:\n  sandbox.coreweave.com/owner: x\n";
        let map = SourceMap::of(text).unwrap();
        assert_eq!(at(&map, r#"labels["sandbox.coreweave.com/owner"]"#), (2, 3));
    }

    #[test]
    fn broken_text_has_no_map() {
        assert!(SourceMap::of("a: [1, 2").is_none());
    }
}
