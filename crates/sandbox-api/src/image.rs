//! Container image references (`ghcr.io/org/app:1.4`, `python@sha256:…`), checked
//! against the grammar of the distribution reference format.

/// Why `reference` is not a syntactically valid image reference, or `None`.
pub fn image_reference_problem(reference: &str) -> Option<String> {
    let problem = |why: &str| Some(format!("{reference:?} is not an image reference: {why}"));
    if reference.is_empty() {
        return problem("it is empty");
    }
    let (rest, digest) = match reference.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (reference, None),
    };
    if let Some(digest) = digest
        && let Some(why) = digest_problem(digest)
    {
        return problem(why);
    }
    // A ':' after the last '/' starts the tag; one before it belongs to a registry port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].find(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag
        && let Some(why) = tag_problem(tag)
    {
        return problem(why);
    }
    if name.len() > 255 {
        return problem("the name is longer than 255 characters");
    }
    let mut components: Vec<&str> = name.split('/').collect();
    if components.len() > 1 && is_registry(components[0]) {
        let registry = components.remove(0);
        if let Some(why) = registry_problem(registry) {
            return problem(why);
        }
    }
    if let Some(why) = components.iter().find_map(|c| path_component_problem(c)) {
        return problem(why);
    }
    None
}

/// Docker's rule: the first component names a registry when it has a '.' or ':' or is
/// `localhost`.
fn is_registry(component: &str) -> bool {
    component.contains(['.', ':'])
        || component == "localhost"
        || component.chars().any(|c| c.is_ascii_uppercase())
}

fn registry_problem(registry: &str) -> Option<&'static str> {
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || registry.starts_with('[') => {
            (host, Some(port))
        }
        _ => (registry, None),
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some("the registry port must be a number");
    }
    let host_ok = host.split('.').all(|part| {
        !part.is_empty()
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !part.starts_with('-')
            && !part.ends_with('-')
    });
    (!host_ok).then_some("the registry host is not a valid host name")
}

/// Lowercase alphanumerics separated by `.`, `_`, `__` or runs of `-`.
fn path_component_problem(component: &str) -> Option<&'static str> {
    if component.is_empty() {
        return Some("it has an empty path component");
    }
    if !component
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return Some("repository names use only lowercase letters, digits, '.', '_' and '-'");
    }
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !component.starts_with(alnum) || !component.ends_with(alnum) {
        return Some("each path component starts and ends with a letter or digit");
    }
    let bad_separator = component
        .split(alnum)
        .filter(|sep| !sep.is_empty())
        .any(|sep| !(sep == "." || sep == "_" || sep == "__" || sep.chars().all(|c| c == '-')));
    bad_separator.then_some("path components separate words with '.', '_', '__' or '-'")
}

fn tag_problem(tag: &str) -> Option<&'static str> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if tag.is_empty() || tag.len() > 128 {
        Some("a tag has 1 to 128 characters")
    } else if !tag.starts_with(word) || !tag.chars().all(|c| word(c) || c == '.' || c == '-') {
        Some("a tag uses letters, digits, '_', '.' and '-', and does not start with '.' or '-'")
    } else {
        None
    }
}

fn digest_problem(digest: &str) -> Option<&'static str> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Some("a digest is algorithm:hex, e.g. sha256:…");
    };
    let algorithm_ok = algorithm.starts_with(|c: char| c.is_ascii_alphabetic())
        && algorithm
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.'));
    if !algorithm_ok {
        Some("the digest algorithm is not valid")
    } else if hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some("the digest must be at least 32 hexadecimal characters")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn common_references_are_valid() {
        for good in [
            "python",
            "python:3.12-slim",
            "library/python:3.12",
            "ghcr.io/example/agent:1.4",
            "registry.example.com:5000/team/app",
            "localhost/app:dev",
            "localhost:5000/app",
            "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "ghcr.io/org/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "my_org/my__app",
            "a-b--c/d.e",
        ] {
            assert_eq!(image_reference_problem(good), None, "{good}");
        }
    }

    #[test]
    fn malformed_references_say_what_is_wrong() {
        for (bad, why) in [
            ("", "empty"),
            ("Ghcr.io/Org/app", "lowercase"),
            ("ghcr.io/org/App", "lowercase"),
            ("app:", "tag"),
            ("app:-x", "tag"),
            ("ghcr.io//app", "empty path"),
            ("app@sha256:123", "32 hexadecimal"),
            ("app@nothing", "algorithm:hex"),
            ("registry:port/app", "port"),
            ("app_/x", "starts and ends"),
            ("a...b", "separate"),
            ("with space", "lowercase"),
        ] {
            let problem = image_reference_problem(bad).unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(problem.contains(why), "{bad}: {problem}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,60}") {
            let _ = image_reference_problem(&text);
        }
    }
}
