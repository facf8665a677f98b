//! A runner's profile bindings (SPEC §3.2): the rules every binding list obeys (exactly
//! one default, each template once, names that tell bindings apart) and the difference
//! between two lists, which the console shows before the whole list is replaced.

use std::collections::BTreeMap;

use crate::field_path::FieldPath;
use crate::names::dns1123_label_problem;
use crate::profile_document::read_spec_json;
use crate::runner::ProfileBinding;
use crate::violation::Violation;

pub const MISSING_TEMPLATE: &str =
    "one or more profile_bindings reference a template that does not exist";
pub const TWO_DEFAULTS: &str = "runner cannot have more than one default profile binding";
pub const NO_DEFAULT: &str = "runner must have exactly one default profile binding";
pub const NO_BINDINGS: &str = "runner must have at least one profile binding";

/// Every rule `bindings` breaks. `template_name` gives the display name of a template
/// of the organization by ID, or `None` when it does not exist. `path` is where the
/// list sits in the request (`runner.profile_bindings`).
pub fn validate_bindings(
    bindings: &[ProfileBinding],
    template_name: impl Fn(&str) -> Option<String>,
    path: &FieldPath,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    let list = path.to_string();
    if bindings.is_empty() {
        violations.push(Violation::error(&list, NO_BINDINGS));
        return violations;
    }
    let mut seen_templates: BTreeMap<&str, usize> = BTreeMap::new();
    let mut seen_names: BTreeMap<String, usize> = BTreeMap::new();
    let mut missing = false;
    for (i, binding) in bindings.iter().enumerate() {
        let item = path.index(i);
        if binding.profile_template_id.is_empty() {
            violations.push(Violation::error(
                item.key("profile_template_id").to_string(),
                "is required",
            ));
            continue;
        }
        if let Some(first) = seen_templates.insert(&binding.profile_template_id, i) {
            violations.push(Violation::error(
                item.key("profile_template_id").to_string(),
                format!("binds the same template as profile_bindings[{first}]; each template at most once per runner"),
            ));
        }
        let Some(display_name) = template_name(&binding.profile_template_id) else {
            missing = true;
            continue;
        };
        if !binding.profile_name.is_empty()
            && let Some(problem) = dns1123_label_problem(&binding.profile_name)
        {
            violations.push(Violation::error(
                item.key("profile_name").to_string(),
                format!("must be a DNS-1123 label: it {problem}"),
            ));
        }
        let name = effective_name(binding, &display_name);
        if let Some(first) = seen_names.insert(name.clone(), i) {
            violations.push(Violation::error(
                item.key("profile_name").to_string(),
                format!("{name:?} is already the name of profile_bindings[{first}]; give one of them another alias"),
            ));
        }
        let (_, override_violations) =
            read_spec_json(&binding.overrides_json, &item.key("overrides_json"));
        violations.extend(override_violations);
    }
    if missing {
        violations.push(Violation::error(&list, MISSING_TEMPLATE));
    }
    match bindings.iter().filter(|b| b.is_default).count() {
        1 => {}
        0 => violations.push(Violation::error(&list, NO_DEFAULT)),
        _ => violations.push(Violation::error(&list, TWO_DEFAULTS)),
    }
    violations
}

/// The name sandboxes use for a binding: its alias, else the template's display name.
pub fn effective_name(binding: &ProfileBinding, template_display_name: &str) -> String {
    if binding.profile_name.is_empty() {
        template_display_name.to_owned()
    } else {
        binding.profile_name.clone()
    }
}

/// What replacing one binding list with another does, matched by template ID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindingDiff {
    pub attached: Vec<ProfileBinding>,
    pub detached: Vec<ProfileBinding>,
    /// (before, after) for bindings whose alias, default flag or overrides change.
    pub updated: Vec<(ProfileBinding, ProfileBinding)>,
}

impl BindingDiff {
    pub fn is_empty(&self) -> bool {
        self.attached.is_empty() && self.detached.is_empty() && self.updated.is_empty()
    }
}

pub fn diff_bindings(current: &[ProfileBinding], desired: &[ProfileBinding]) -> BindingDiff {
    let find = |list: &[ProfileBinding], id: &str| {
        list.iter().find(|b| b.profile_template_id == id).cloned()
    };
    let mut diff = BindingDiff::default();
    for before in current {
        match find(desired, &before.profile_template_id) {
            None => diff.detached.push(before.clone()),
            Some(after) if !same_binding(before, &after) => {
                diff.updated.push((before.clone(), after))
            }
            Some(_) => {}
        }
    }
    for after in desired {
        if find(current, &after.profile_template_id).is_none() {
            diff.attached.push(after.clone());
        }
    }
    diff
}

/// My edit of a binding list (`base` → `mine`) replayed on the list the server has
/// now (`theirs`), for when someone else changed the runner meanwhile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rebased {
    pub bindings: Vec<ProfileBinding>,
    /// Templates both edits changed differently; mine is kept for them.
    pub both_changed: Vec<String>,
}

/// Replays what I attached, detached and updated on `theirs`, keeping everything else
/// as they left it. The default is mine if I moved it, else theirs.
pub fn rebase_bindings(
    base: &[ProfileBinding],
    mine: &[ProfileBinding],
    theirs: &[ProfileBinding],
) -> Rebased {
    let mut bindings = theirs.to_vec();
    let mut both_changed = Vec::new();
    let position =
        |list: &[ProfileBinding], id: &str| list.iter().position(|b| b.profile_template_id == id);
    let BindingDiff {
        attached,
        detached,
        updated,
    } = diff_bindings(base, mine);
    for gone in detached {
        if let Some(i) = position(&bindings, &gone.profile_template_id) {
            if !same_binding(&bindings[i], &gone) {
                both_changed.push(gone.profile_template_id.clone());
            }
            bindings.remove(i);
        }
    }
    let mine_changed = updated
        .into_iter()
        .map(|(before, after)| (Some(before), after))
        .chain(attached.into_iter().map(|after| (None, after)));
    for (before, after) in mine_changed {
        match (position(&bindings, &after.profile_template_id), before) {
            (Some(i), Some(before)) => {
                // Field by field: what I changed is mine, the rest stays theirs.
                let theirs = &mut bindings[i];
                let alias = take_change(
                    &before.profile_name,
                    &after.profile_name,
                    &mut theirs.profile_name,
                );
                let overrides = take_change(
                    &before.overrides_json,
                    &after.overrides_json,
                    &mut theirs.overrides_json,
                );
                let clash = alias || overrides;
                if clash {
                    both_changed.push(after.profile_template_id.clone());
                }
            }
            (Some(i), None) => {
                if !same_binding(&bindings[i], &after) {
                    both_changed.push(after.profile_template_id.clone());
                }
                bindings[i] = after;
            }
            (None, before) => {
                if before.is_some() {
                    both_changed.push(after.profile_template_id.clone());
                }
                bindings.push(after);
            }
        }
    }
    let default_of = |list: &[ProfileBinding]| {
        list.iter()
            .find(|b| b.is_default)
            .map(|b| b.profile_template_id.clone())
    };
    let default = if default_of(mine) != default_of(base) {
        default_of(mine)
    } else {
        default_of(theirs)
    };
    for binding in &mut bindings {
        binding.is_default = Some(&binding.profile_template_id) == default.as_ref();
    }
    both_changed.sort();
    both_changed.dedup();
    Rebased {
        bindings,
        both_changed,
    }
}

/// Sets `theirs` to `wanted` when I changed the field (`was` → `wanted`); true when
/// they changed it too, to something else.
fn take_change(was: &str, wanted: &str, theirs: &mut String) -> bool {
    if was == wanted {
        return false;
    }
    let clash = theirs != was && theirs != wanted;
    *theirs = wanted.to_owned();
    clash
}

/// `bindings` with the binding of template `from` swapped for template `to`, keeping
/// its place, alias, default flag and overrides: one step of rolling out a new version
/// of a profile.
pub fn replace_template(
    bindings: &[ProfileBinding],
    from: &str,
    to: &str,
) -> Result<Vec<ProfileBinding>, String> {
    if bindings.iter().any(|b| b.profile_template_id == to) {
        return Err("the new version is already bound here".to_owned());
    }
    let mut replaced = bindings.to_vec();
    let binding = replaced
        .iter_mut()
        .find(|b| b.profile_template_id == from)
        .ok_or_else(|| "the profile to replace is no longer bound here".to_owned())?;
    binding.profile_template_id = to.to_owned();
    Ok(replaced)
}

/// Equal, comparing overrides as JSON values rather than text (key order and spacing
/// do not count as a change).
fn same_binding(a: &ProfileBinding, b: &ProfileBinding) -> bool {
    let overrides = |text: &str| -> Option<serde_json::Value> {
        if text.trim().is_empty() {
            None
        } else {
            serde_json::from_str(text).ok()
        }
    };
    a.profile_name == b.profile_name
        && a.is_default == b.is_default
        && (a.overrides_json == b.overrides_json
            || overrides(&a.overrides_json) == overrides(&b.overrides_json))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(id: &str, name: &str, is_default: bool) -> ProfileBinding {
        ProfileBinding {
            profile_template_id: id.into(),
            profile_name: name.into(),
            is_default,
            overrides_json: String::new(),
        }
    }

    fn templates(id: &str) -> Option<String> {
        match id {
            "t1" => Some("agent".into()),
            "t2" => Some("ci".into()),
            "t3" => Some("agent".into()),
            _ => None,
        }
    }

    fn messages(bindings: &[ProfileBinding]) -> Vec<(String, String)> {
        validate_bindings(
            bindings,
            templates,
            &FieldPath::root().key("runner").key("profile_bindings"),
        )
        .into_iter()
        .map(|v| (v.field, v.message))
        .collect()
    }

    #[test]
    fn exactly_one_default_is_required() {
        assert_eq!(
            messages(&[binding("t1", "", true), binding("t2", "", false)]),
            []
        );
        assert_eq!(
            messages(&[binding("t1", "", true), binding("t2", "", true)]),
            [(
                "runner.profile_bindings".to_owned(),
                TWO_DEFAULTS.to_owned()
            )]
        );
        assert_eq!(
            messages(&[binding("t1", "", false)]),
            [("runner.profile_bindings".to_owned(), NO_DEFAULT.to_owned())]
        );
        assert_eq!(
            messages(&[]),
            [("runner.profile_bindings".to_owned(), NO_BINDINGS.to_owned())]
        );
    }

    #[test]
    fn templates_must_exist_and_appear_once_and_names_must_differ() {
        let found = messages(&[
            binding("t1", "", true),
            binding("t1", "other", false),
            binding("zz", "", false),
            binding("t3", "", false),
        ]);
        let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "runner.profile_bindings[1].profile_template_id",
                "runner.profile_bindings[3].profile_name",
                "runner.profile_bindings"
            ]
        );
        assert_eq!(found[2].1, MISSING_TEMPLATE);
        assert!(
            found[1]
                .1
                .contains("\"agent\" is already the name of profile_bindings[0]")
        );
    }

    #[test]
    fn overrides_are_checked_like_a_spec() {
        let mut b = binding("t1", "", true);
        b.overrides_json = r#"{"runtimeClass": "Not Valid", "bogus": 1}"#.into();
        let fields: Vec<String> = messages(&[b]).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "runner.profile_bindings[0].overrides_json.bogus",
                "runner.profile_bindings[0].overrides_json.runtime_class"
            ]
        );
    }

    #[test]
    fn diff_lists_attach_detach_and_update_by_template() {
        let mut changed = binding("t2", "ci", false);
        changed.overrides_json = r#"{"tags":["x"]}"#.into();
        let current = [
            binding("t1", "", true),
            binding("t2", "ci", false),
            binding("t3", "", false),
        ];
        let desired = [
            binding("t1", "", true),
            changed.clone(),
            binding("t4", "", false),
        ];
        let diff = diff_bindings(&current, &desired);
        assert_eq!(diff.attached, [binding("t4", "", false)]);
        assert_eq!(diff.detached, [binding("t3", "", false)]);
        assert_eq!(diff.updated, [(binding("t2", "ci", false), changed)]);
        assert!(diff_bindings(&current, &current).is_empty());
    }

    #[test]
    fn reformatted_overrides_are_not_a_change() {
        let mut a = binding("t1", "", true);
        a.overrides_json = r#"{"tags":["x"],"runtimeClass":"gvisor"}"#.into();
        let mut b = a.clone();
        b.overrides_json = "{\n  \"runtimeClass\": \"gvisor\",\n  \"tags\": [\"x\"]\n}".into();
        assert!(diff_bindings(&[a], &[b]).is_empty());
    }

    #[test]
    fn my_edit_is_replayed_on_theirs() {
        let base = vec![binding("t1", "", true), binding("t2", "", false)];
        // I detach t2 and alias t1; they attached t3 meanwhile.
        let mine = vec![binding("t1", "main", true)];
        let theirs = vec![
            binding("t1", "", true),
            binding("t2", "", false),
            binding("t3", "", false),
        ];
        let rebased = rebase_bindings(&base, &mine, &theirs);
        assert_eq!(
            rebased.bindings,
            [binding("t1", "main", true), binding("t3", "", false)]
        );
        assert!(rebased.both_changed.is_empty());
    }

    #[test]
    fn the_default_is_mine_if_i_moved_it_else_theirs() {
        let base = vec![binding("t1", "", true), binding("t2", "", false)];
        let theirs_moved = vec![binding("t1", "", false), binding("t2", "", true)];
        let mine_alias = vec![binding("t1", "a", true), binding("t2", "", false)];
        let rebased = rebase_bindings(&base, &mine_alias, &theirs_moved);
        assert_eq!(
            rebased.bindings,
            [binding("t1", "a", false), binding("t2", "", true)]
        );
        let mine_moved = theirs_moved.clone();
        let theirs_alias = vec![binding("t1", "b", true), binding("t2", "", false)];
        let rebased = rebase_bindings(&base, &mine_moved, &theirs_alias);
        assert_eq!(
            rebased.bindings,
            [binding("t1", "b", false), binding("t2", "", true)]
        );
        assert!(rebased.both_changed.is_empty(), "different fields of t1");
    }

    #[test]
    fn the_same_binding_changed_by_both_is_named() {
        let base = vec![binding("t1", "", true)];
        let mine = vec![binding("t1", "mine", true)];
        let theirs = vec![binding("t1", "theirs", true)];
        let rebased = rebase_bindings(&base, &mine, &theirs);
        assert_eq!(rebased.bindings, mine);
        assert_eq!(rebased.both_changed, ["t1"]);
    }

    #[test]
    fn a_new_version_takes_the_old_ones_place() {
        let bindings = vec![binding("t1", "agent", true), binding("t2", "", false)];
        assert_eq!(
            replace_template(&bindings, "t1", "t3").unwrap(),
            [binding("t3", "agent", true), binding("t2", "", false)]
        );
        assert!(replace_template(&bindings, "t9", "t3").is_err());
        assert!(replace_template(&bindings, "t1", "t2").is_err());
    }
}
