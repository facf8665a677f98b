//! The mistakes in a profile's text, each where it is: what `sandbox_api` finds when it
//! reads the text, and a renamed profile (its name cannot change after create).

use sandbox_api::profile::ProfileTemplate;
use sandbox_api::profile_document::ParsedProfile;
use serde::Serialize;

/// A mistake in the text, where it is (also what Monaco's markers are made from).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl Problem {
    /// The problem as the list says it.
    pub fn label(&self) -> String {
        format!(
            "Line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Every mistake in `parsed`; `server` is the saved copy when editing one.
pub fn problems_of(parsed: &ParsedProfile, server: Option<&ProfileTemplate>) -> Vec<Problem> {
    let mut problems: Vec<Problem> = parsed
        .violations
        .iter()
        .map(|located| Problem {
            line: located.position.line,
            column: located.position.column,
            message: if located.violation.field.is_empty() {
                located.violation.message.clone()
            } else {
                format!("{}: {}", located.violation.field, located.violation.message)
            },
        })
        .collect();
    if let (Some(server), Some(document)) = (server, &parsed.document)
        && document.display_name != server.display_name
    {
        problems.push(Problem {
            line: 1,
            column: 1,
            message: format!(
                "display_name: is {:?} and cannot change after create",
                server.display_name
            ),
        });
    }
    problems
}

/// The heading of the problem list.
pub fn count_heading(count: usize) -> String {
    match count {
        0 => "No problems".to_owned(),
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    }
}

#[cfg(test)]
mod tests {
    use sandbox_api::profile_document::parse_profile;

    use super::super::NEW_PROFILE;
    use super::*;

    #[test]
    fn a_renamed_profile_is_a_problem_and_the_starting_text_is_valid() {
        let parsed = parse_profile(NEW_PROFILE);
        assert_eq!(problems_of(&parsed, None), []);
        let server = ProfileTemplate {
            display_name: "other".to_owned(),
            ..ProfileTemplate::default()
        };
        let problems = problems_of(&parsed, Some(&server));
        assert_eq!(
            problems,
            [Problem {
                line: 1,
                column: 1,
                message: "display_name: is \"other\" and cannot change after create".into()
            }]
        );
    }

    #[test]
    fn mistakes_carry_their_line() {
        let text = NEW_PROFILE.replace("default: none", "default: internet");
        let problems = problems_of(&parse_profile(&text), None);
        let line = text
            .lines()
            .position(|l| l.contains("default: internet"))
            .map(|i| i as u32 + 1);
        assert!(
            problems.iter().any(|p| Some(p.line) == line),
            "{problems:?}"
        );
    }

    #[test]
    fn the_list_says_where_and_how_many() {
        let problem = Problem {
            line: 3,
            column: 5,
            message: "spec: is wrong".into(),
        };
        assert_eq!(problem.label(), "Line 3, column 5: spec: is wrong");
        assert_eq!(count_heading(0), "No problems");
        assert_eq!(count_heading(1), "1 problem");
        assert_eq!(count_heading(4), "4 problems");
    }
}
