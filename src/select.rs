//! `--show-only`: keeping the rendered objects the user asked for.
//!
//! A selector is `KIND/NAME` (kind case-insensitive) or `NAME`. Every selector must match some
//! object: with several selectors, a mistyped one would otherwise go unnoticed next to one that
//! matches. `helm template -s` takes template file names (`templates/deployments.yaml`); st2k8s
//! has no template files, so such a selector gets an explanation and the objects of the kind the
//! file name suggests, and any other selector that matches nothing gets the closest object.

use anyhow::{Result, bail};

use crate::object::Object;
use crate::values::check::closest;

/// How many objects a hint lists at most.
const HINT_LIMIT: usize = 6;

/// The objects matching any of `selectors`; an error naming the first selector that matches none.
pub fn show_only(mut objects: Vec<Object>, selectors: &[String]) -> Result<Vec<Object>> {
    for selector in selectors {
        if !objects.iter().any(|o| o.matches(selector)) {
            bail!("{}", no_match(&objects, selector));
        }
    }
    objects.retain(|o| selectors.iter().any(|s| o.matches(s)));
    Ok(objects)
}

/// The message for a selector that matches no object.
fn no_match(objects: &[Object], selector: &str) -> String {
    // An example from this render, so that it carries the release name in use.
    let deployments = || objects.iter().filter(|o| o.kind == "Deployment");
    let example = deployments()
        .find(|o| o.name.ends_with("-st2api"))
        .or_else(|| deployments().next())
        .map_or_else(
            || "Deployment/st2-st2api".into(),
            |o| format!("Deployment/{}", o.name),
        );
    if let Some(stem) = template_file_stem(selector) {
        let mut message = format!(
            "--show-only `{selector}`: st2k8s selects rendered objects, not template files: use KIND/NAME or NAME (e.g. `{example}`)"
        );
        let listed = list(of_kind_in(objects, &stem));
        if !listed.is_empty() {
            message.push_str("; objects of that kind: ");
            message.push_str(&listed);
        }
        return message;
    }
    let candidates: Vec<String> = objects
        .iter()
        .map(|o| {
            if selector.contains('/') {
                format!("{}/{}", o.kind, o.name)
            } else {
                o.name.clone()
            }
        })
        .collect();
    let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
    match closest(selector, &refs) {
        Some(close) => {
            format!("--show-only `{selector}` matches no object; did you mean `{close}`?")
        }
        None => format!(
            "--show-only `{selector}` matches no object (use KIND/NAME or NAME, e.g. `{example}`)"
        ),
    }
}

/// The file name without directory and extension, lowercase and without `-`/`_`, when the
/// selector looks like a Helm template path (`templates/…` or a `.yaml`/`.yml`/`.tpl` file).
fn template_file_stem(selector: &str) -> Option<String> {
    let file = selector.rsplit('/').next().unwrap_or(selector);
    let (stem, ext) = file.rsplit_once('.').unwrap_or((file, ""));
    let is_file = selector.starts_with("templates/")
        || ["yaml", "yml", "tpl"].contains(&ext.to_ascii_lowercase().as_str());
    is_file.then(|| {
        stem.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    })
}

/// The objects whose kind the file name `stem` names (`deployments` → Deployments): the longest
/// kind it contains, so `serviceaccount` means ServiceAccounts, not Services.
fn of_kind_in<'a>(objects: &'a [Object], stem: &str) -> Vec<&'a Object> {
    let kind = objects
        .iter()
        .map(|o| o.kind.to_ascii_lowercase())
        .filter(|k| stem.contains(k.as_str()))
        .max_by_key(String::len);
    match kind {
        Some(kind) => objects
            .iter()
            .filter(|o| o.kind.eq_ignore_ascii_case(&kind))
            .collect(),
        None => Vec::new(),
    }
}

/// `Kind/name, …` for at most [`HINT_LIMIT`] objects, then how many more there are.
fn list(objects: Vec<&Object>) -> String {
    let mut names: Vec<String> = objects
        .iter()
        .take(HINT_LIMIT)
        .map(|o| format!("{}/{}", o.kind, o.name))
        .collect();
    if objects.len() > HINT_LIMIT {
        names.push(format!("… ({} more)", objects.len() - HINT_LIMIT));
    }
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, name: &str) -> Object {
        Object::from_json("v1", kind, name.into(), serde_json::json!({}))
    }

    fn objects() -> Vec<Object> {
        vec![
            object("ServiceAccount", "st2-sa"),
            object("Service", "st2-st2api"),
            object("Deployment", "st2-st2api"),
            object("Deployment", "st2-st2web"),
        ]
    }

    fn error(selectors: &[&str]) -> String {
        let selectors: Vec<String> = selectors.iter().map(|s| s.to_string()).collect();
        show_only(objects(), &selectors)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn every_selector_must_match() {
        let kept = show_only(
            objects(),
            &["deployment/st2-st2api".into(), "st2-sa".into()],
        )
        .expect("both match");
        let kept: Vec<String> = kept
            .iter()
            .map(|o| format!("{}/{}", o.kind, o.name))
            .collect();
        assert_eq!(kept, ["ServiceAccount/st2-sa", "Deployment/st2-st2api"]);
        assert_eq!(
            error(&["Deployment/st2-st2api", "Deployment/st2-st2ap"]),
            "--show-only `Deployment/st2-st2ap` matches no object; did you mean `Deployment/st2-st2api`?"
        );
        assert_eq!(
            error(&["nothing-like-it-at-all"]),
            "--show-only `nothing-like-it-at-all` matches no object (use KIND/NAME or NAME, e.g. `Deployment/st2-st2api`)"
        );
    }

    #[test]
    fn the_example_names_an_object_of_this_render() {
        let objects = vec![object("Deployment", "prod-st2web")];
        let err = show_only(objects, &["x".into()])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "--show-only `x` matches no object (use KIND/NAME or NAME, e.g. `Deployment/prod-st2web`)"
            )
        );
    }

    #[test]
    fn template_files_are_explained() {
        assert_eq!(
            error(&["templates/service-account.yaml"]),
            "--show-only `templates/service-account.yaml`: st2k8s selects rendered objects, not template files: use KIND/NAME or NAME (e.g. `Deployment/st2-st2api`); objects of that kind: ServiceAccount/st2-sa"
        );
        assert_eq!(
            error(&["templates/ingress.yaml"]),
            "--show-only `templates/ingress.yaml`: st2k8s selects rendered objects, not template files: use KIND/NAME or NAME (e.g. `Deployment/st2-st2api`)"
        );
    }
}
