//! Saving a profile against the copy the edit started from: the template sent (with
//! that copy's etag), the request as a curl command's method and path, both sides of
//! the review's diff written alike, and an edit re-applied on a copy someone else saved
//! meanwhile (`sandbox_api::profile_merge`).

use sandbox_api::profile::ProfileTemplate;
use sandbox_api::profile_document::{ProfileDocument, ProfileForm, TextFormat, write_profile};
use sandbox_api::profile_merge::reapply;

/// What saving `document` sends: its template, with the etag of `base`, the copy the
/// edit is against (none for a new profile).
pub fn template_to_save(
    document: &ProfileDocument,
    base: Option<&ProfileTemplate>,
) -> ProfileTemplate {
    let mut template = document.to_template();
    template.etag = base.map(|b| b.etag.clone()).unwrap_or_default();
    template
}

/// The method and control-plane path that save: create, or update of `id` (every
/// field an update may change).
pub fn save_route(id: Option<&str>) -> (&'static str, String) {
    match id {
        Some(id) => (
            "PATCH",
            format!("profile-templates/{id}?updateMask=description,labels,spec"),
        ),
        None => ("POST", "profile-templates".to_owned()),
    }
}

/// A saved copy as CLI-form YAML, the way both sides of a diff are written so that
/// only real changes show.
pub fn normalized(template: Option<&ProfileTemplate>) -> String {
    template
        .map(|t| cli_yaml(&ProfileDocument::from_template(t).0))
        .unwrap_or_default()
}

/// A document as the CLI's YAML.
pub fn cli_yaml(document: &ProfileDocument) -> String {
    write_profile(document, ProfileForm::Cli, TextFormat::Yaml)
}

/// My edit (`mine`, made on `before`) re-applied on `latest`, someone else's copy
/// saved meanwhile.
#[derive(Clone, Debug, PartialEq)]
pub struct Reapplied {
    /// The result, as the CLI's YAML: the editor's new text.
    pub text: String,
    /// The fields we both changed (mine are kept).
    pub collisions: Vec<String>,
}

pub fn reapply_edit(
    before: &ProfileTemplate,
    mine: &ProfileDocument,
    latest: &ProfileTemplate,
) -> Reapplied {
    let result = reapply(
        &ProfileDocument::from_template(before).0,
        mine,
        &ProfileDocument::from_template(latest).0,
    );
    Reapplied {
        text: result.to_yaml(),
        collisions: result.conflicts,
    }
}

#[cfg(test)]
mod tests {
    use sandbox_api::profile_document::parse_profile;

    use super::*;

    fn template(description: &str, image: &str) -> ProfileTemplate {
        let text = format!(
            "display_name: ci\ndescription: {description}\nspec:\n  container_image: {image}\n"
        );
        parse_profile(&text).document.unwrap().to_template()
    }

    #[test]
    fn an_update_is_sent_with_the_etag_it_started_from() {
        let document = ProfileDocument::from_template(&template("a", "python")).0;
        let base = ProfileTemplate {
            etag: "v7".into(),
            ..ProfileTemplate::default()
        };
        assert_eq!(template_to_save(&document, Some(&base)).etag, "v7");
        assert_eq!(template_to_save(&document, None).etag, "");
        assert_eq!(
            save_route(Some("id-1")),
            (
                "PATCH",
                "profile-templates/id-1?updateMask=description,labels,spec".to_owned()
            )
        );
        assert_eq!(save_route(None), ("POST", "profile-templates".to_owned()));
    }

    #[test]
    fn both_sides_of_a_diff_are_written_alike() {
        let saved = template("a", "python");
        let text = normalized(Some(&saved));
        assert_eq!(text, cli_yaml(&parse_profile(&text).document.unwrap()));
        assert!(text.contains("container_image: python"));
        assert_eq!(normalized(None), "");
    }

    #[test]
    fn my_edit_is_reapplied_on_their_copy_naming_what_we_both_changed() {
        let before = template("a", "python");
        let latest = template("theirs", "node");
        let mine = ProfileDocument::from_template(&template("mine", "python")).0;
        let result = reapply_edit(&before, &mine, &latest);
        let merged = parse_profile(&result.text).document.unwrap();
        assert_eq!(merged.description, "mine");
        assert_eq!(merged.spec.container_image, "node");
        assert_eq!(result.collisions, ["description"]);
    }
}
