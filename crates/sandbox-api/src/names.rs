//! Kubernetes naming rules: DNS-1123 labels and subdomains, label keys and values.
//! Each check returns why a name is invalid, or `None` when it is valid.

/// Why `name` is not a DNS-1123 label (lowercase alphanumerics and `-`, starting and
/// ending alphanumeric, at most 63 characters).
pub fn dns1123_label_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("must not be empty")
    } else if name.len() > 63 {
        Some("must be at most 63 characters")
    } else if !name.chars().all(|c| is_lower_alnum(c) || c == '-') {
        Some("must contain only lowercase letters, digits and '-'")
    } else if !name.starts_with(is_lower_alnum) || !name.ends_with(is_lower_alnum) {
        Some("must start and end with a lowercase letter or digit")
    } else {
        None
    }
}

/// Why `name` is not a DNS-1123 subdomain (dot-separated labels, at most 253
/// characters), e.g. a `runtimeClassName`.
pub fn dns1123_subdomain_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("must not be empty");
    }
    if name.len() > 253 {
        return Some("must be at most 253 characters");
    }
    if !name
        .chars()
        .all(|c| is_lower_alnum(c) || c == '-' || c == '.')
    {
        return Some("must contain only lowercase letters, digits, '-' and '.'");
    }
    if name.split('.').any(|part| {
        part.is_empty() || !part.starts_with(is_lower_alnum) || !part.ends_with(is_lower_alnum)
    }) {
        return Some("each dot-separated part must start and end with a lowercase letter or digit");
    }
    None
}

/// Why `key` is not a Kubernetes label or annotation key: an optional DNS subdomain
/// prefix and `/`, then a name of at most 63 characters.
pub fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(problem) = prefix.and_then(dns1123_subdomain_problem) {
        return Some(format!("the prefix before '/' {problem}"));
    }
    if name.is_empty() {
        return Some("the name part must not be empty".into());
    }
    qualified_name_problem(name).map(|problem| format!("the name part {problem}"))
}

/// Why `value` is not a Kubernetes label value (empty, or a name of at most 63
/// characters).
pub fn label_value_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    qualified_name_problem(value).map(str::to_owned)
}

fn qualified_name_problem(name: &str) -> Option<&'static str> {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    if name.len() > 63 {
        Some("must be at most 63 characters")
    } else if !name
        .chars()
        .all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
    {
        Some("must contain only letters, digits, '-', '_' and '.'")
    } else if !name.starts_with(alnum) || !name.ends_with(alnum) {
        Some("must start and end with a letter or digit")
    } else {
        None
    }
}

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_accepted_and_each_rejection_explained() {
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
        assert!(dns1123_label_problem("a.b").is_some());
        assert!(dns1123_label_problem("").is_some());
    }

    #[test]
    fn subdomains_are_dot_separated_labels() {
        assert_eq!(dns1123_subdomain_problem("kata-qemu-nvidia-gpu"), None);
        assert_eq!(dns1123_subdomain_problem("runtime.example.com"), None);
        assert!(dns1123_subdomain_problem("a..b").is_some());
        assert!(dns1123_subdomain_problem(".a").is_some());
        assert!(dns1123_subdomain_problem("Gvisor").is_some());
        assert!(dns1123_subdomain_problem(&"a".repeat(254)).is_some());
    }

    #[test]
    fn label_keys_may_have_a_subdomain_prefix() {
        assert_eq!(label_key_problem("app"), None);
        assert_eq!(label_key_problem("sandbox.coreweave.com/owner"), None);
        assert_eq!(label_key_problem("app.kubernetes.io/Name_x"), None);
        assert!(label_key_problem("").unwrap().contains("name part"));
        assert!(
            label_key_problem("Example.com/x")
                .unwrap()
                .contains("prefix")
        );
        assert!(label_key_problem("a/b/c").is_some());
        assert!(label_key_problem("bad key").is_some());
        assert!(label_key_problem("x/").unwrap().contains("empty"));
    }

    #[test]
    fn label_values_may_be_empty_but_not_odd() {
        assert_eq!(label_value_problem(""), None);
        assert_eq!(label_value_problem("agent"), None);
        assert_eq!(label_value_problem("v1.2_beta-3"), None);
        assert!(label_value_problem("-x").is_some());
        assert!(label_value_problem("has space").is_some());
        assert!(label_value_problem(&"v".repeat(64)).is_some());
    }
}
