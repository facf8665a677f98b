//! Field paths in a profile's YAML form (`spec.network.egress.modes.allowlist.cidrs[0]`):
//! how a violation names its field, and how an editor finds the line.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path from the document root. Keys that are not plain words (a label key such as
/// `sandbox.coreweave.com/owner`) are written in brackets and quotes so that the text
/// form stays unambiguous.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    /// The path of `key` inside the object at this path.
    pub fn key(&self, key: &str) -> FieldPath {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_owned()));
        FieldPath(segments)
    }

    /// The path of item `index` of the list at this path.
    pub fn index(&self, index: usize) -> FieldPath {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        FieldPath(segments)
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub fn from_segments(segments: Vec<Segment>) -> FieldPath {
        FieldPath(segments)
    }

    /// Parses the text form written by `Display`; `None` if it is not one.
    pub fn parse(text: &str) -> Option<FieldPath> {
        let mut segments = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("[\"") {
                let end = after.find("\"]")?;
                segments.push(Segment::Key(after[..end].to_owned()));
                rest = &after[end + 2..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let end = after.find(']')?;
                segments.push(Segment::Index(after[..end].parse().ok()?));
                rest = &after[end + 1..];
            } else {
                let word = rest.strip_prefix('.').unwrap_or(rest);
                let end = word.find(['.', '[']).unwrap_or(word.len());
                if end == 0 {
                    return None;
                }
                segments.push(Segment::Key(word[..end].to_owned()));
                rest = &word[end..];
            }
        }
        Some(FieldPath(segments))
    }
}

fn is_plain_word(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if is_plain_word(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                Segment::Key(key) => write!(f, "[\"{key}\"]")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn writes_words_with_dots_and_other_keys_in_brackets() {
        let path = FieldPath::root()
            .key("spec")
            .key("pod")
            .key("metadata")
            .key("labels")
            .key("sandbox.coreweave.com/owner");
        assert_eq!(
            path.to_string(),
            r#"spec.pod.metadata.labels["sandbox.coreweave.com/owner"]"#
        );
        let cidr = FieldPath::root()
            .key("spec")
            .key("network")
            .key("cidrs")
            .index(2);
        assert_eq!(cidr.to_string(), "spec.network.cidrs[2]");
    }

    proptest! {
        #[test]
        fn text_form_parses_back(keys in prop::collection::vec(
            prop_oneof!["[a-z_-]{1,8}".prop_map(Some), Just(None), "[a-z./]{1,8}".prop_map(Some)], 0..6)) {
            let mut path = FieldPath::root();
            for (i, key) in keys.iter().enumerate() {
                path = match key {
                    Some(key) => path.key(key),
                    None => path.index(i),
                };
            }
            prop_assert_eq!(FieldPath::parse(&path.to_string()), Some(path));
        }
    }
}
