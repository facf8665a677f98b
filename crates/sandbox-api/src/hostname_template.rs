//! Hostname templates for ingress (`{{.SandboxID}}.apps.example.com`): Go-template
//! syntax whose only variables are `{{.SandboxID}}` and `{{.Namespace}}`.

use crate::names::dns1123_subdomain_problem;

const VARIABLES: [(&str, &str); 2] = [
    (".SandboxID", "sbx-0123456789"),
    (".Namespace", "agent-alice"),
];

/// Why `template` is not a valid hostname template, or `None`.
pub fn hostname_template_problem(template: &str) -> Option<String> {
    let mut rendered = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        rendered.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Some("has a '{{' without a matching '}}'".into());
        };
        let variable = after[..close].trim();
        let Some((_, sample)) = VARIABLES.iter().find(|(name, _)| *name == variable) else {
            return Some(format!(
                "uses {{{{{variable}}}}}: the only variables are {{{{.SandboxID}}}} and {{{{.Namespace}}}}"
            ));
        };
        rendered.push_str(sample);
        rest = &after[close + 2..];
    }
    if rest.contains("}}") {
        return Some("has a '}}' without a matching '{{'".into());
    }
    rendered.push_str(rest);
    dns1123_subdomain_problem(&rendered)
        .map(|problem| format!("does not make a valid host name: it {problem}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_with_the_two_variables_are_valid() {
        assert_eq!(
            hostname_template_problem("{{.SandboxID}}.{{.Namespace}}.apps.example.com"),
            None
        );
        assert_eq!(
            hostname_template_problem("{{ .SandboxID }}-sbx.example.com"),
            None
        );
        assert_eq!(hostname_template_problem("static.example.com"), None);
    }

    #[test]
    fn other_variables_and_broken_syntax_are_rejected() {
        assert!(
            hostname_template_problem("{{.User}}.example.com")
                .unwrap()
                .contains("{{.User}}")
        );
        assert!(
            hostname_template_problem("{{.SandboxID.example.com")
                .unwrap()
                .contains("matching")
        );
        assert!(
            hostname_template_problem("x}}.example.com")
                .unwrap()
                .contains("matching")
        );
        assert!(
            hostname_template_problem("{{.SandboxID}}_x.example.com")
                .unwrap()
                .contains("host name")
        );
        assert!(hostname_template_problem("").is_some());
    }
}
