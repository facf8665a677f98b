//! A rule broken by some input, named by its field path in the profile's YAML form
//! (`spec.network.egress.default`), so an editor can point at the line.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Accepted by the API, but the platform will do something the author may not expect.
    Warning,
    /// Blocks saving.
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub message: String,
    pub severity: Severity,
}

impl Violation {
    pub fn error(field: impl Into<String>, message: impl Into<String>) -> Violation {
        Violation {
            field: field.into(),
            message: message.into(),
            severity: Severity::Error,
        }
    }

    pub fn warning(field: impl Into<String>, message: impl Into<String>) -> Violation {
        Violation {
            field: field.into(),
            message: message.into(),
            severity: Severity::Warning,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Only the errors among `violations`: what blocks a save.
pub fn errors(violations: &[Violation]) -> Vec<Violation> {
    violations
        .iter()
        .filter(|v| v.severity == Severity::Error)
        .cloned()
        .collect()
}
