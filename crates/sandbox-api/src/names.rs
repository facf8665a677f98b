//! Kubernetes naming rules.

/// Why `name` is not a DNS-1123 label (lowercase alphanumerics and `-`, starting and
/// ending alphanumeric, at most 63 characters), or `None` when it is one.
pub fn dns1123_label_problem(name: &str) -> Option<&'static str> {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if name.is_empty() {
        Some("must not be empty")
    } else if name.len() > 63 {
        Some("must be at most 63 characters")
    } else if !name.chars().all(|c| alnum(c) || c == '-') {
        Some("must contain only lowercase letters, digits and '-'")
    } else if !name.starts_with(alnum) || !name.ends_with(alnum) {
        Some("must start and end with a lowercase letter or digit")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_labels_and_explains_each_rejection() {
        assert_eq!(dns1123_label_problem("agent-allowlist"), None);
        assert_eq!(dns1123_label_problem("a"), None);
        assert_eq!(dns1123_label_problem(&"a".repeat(63)), None);
        assert!(
            dns1123_label_problem(&"a".repeat(64))
                .unwrap()
                .contains("63")
        );
        assert!(
            dns1123_label_problem("Agent")
                .unwrap()
                .contains("lowercase")
        );
        assert!(
            dns1123_label_problem("-agent")
                .unwrap()
                .contains("start and end")
        );
        assert!(
            dns1123_label_problem("agent-")
                .unwrap()
                .contains("start and end")
        );
        assert!(dns1123_label_problem("").is_some());
    }
}
