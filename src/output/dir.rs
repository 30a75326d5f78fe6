//! `--output-dir`: one file per object plus a `kustomization.yaml`.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use super::push_yaml;
use super::yaml::SharedText;
use crate::render::Object;

/// File name of an object in `--output-dir`: `<kind>-<name>.yaml`, lowercase kind. Object names
/// are DNS names, so the file name needs no escaping.
pub fn file_name(object: &Object) -> String {
    format!("{}-{}.yaml", object.kind.to_ascii_lowercase(), object.name)
}

/// Write one file per object into `dir` (created if missing). Files holding a Secret are
/// private to the owner (mode 0600), also when they replace an existing file. Object files an
/// earlier render listed in `kustomization.yaml` that this render no longer has are removed,
/// so `kubectl apply -f DIR` does not bring back objects that are gone; other files stay.
pub fn write_dir(dir: &Path, objects: &[Object]) -> Result<()> {
    let mut shared = SharedText::default();
    let rendered: Vec<(String, String, bool)> = objects
        .iter()
        .map(|o| {
            let mut text = String::with_capacity(4096);
            push_yaml(&mut text, o, &mut shared)?;
            Ok((file_name(o), text, o.kind == "Secret"))
        })
        .collect::<Result<_>>()?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let path = dir.join("kustomization.yaml");
    let listed_before = std::fs::read_to_string(&path)
        .map(|text| listed_files(&text))
        .unwrap_or_default();
    for (name, text, secret) in &rendered {
        let path = dir.join(name);
        let written = if *secret {
            write_private(&path, text)
        } else {
            std::fs::write(&path, text)
        };
        written.with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    std::fs::write(
        &path,
        kustomization(rendered.iter().map(|(name, _, _)| name.as_str())),
    )
    .with_context(|| format!("cannot write `{}`", path.display()))?;
    let current: HashSet<&str> = rendered.iter().map(|(name, _, _)| name.as_str()).collect();
    for stale in listed_before
        .iter()
        .filter(|f| !current.contains(f.as_str()))
    {
        let path = dir.join(stale);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot remove `{}`", path.display()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The object files a `kustomization.yaml` written by [`kustomization`] lists: its `resources`
/// that look like [`file_name`]s (one path component, `.yaml`). Anything else, or a file that
/// is not ours, lists nothing.
fn listed_files(text: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Listing {
        kind: String,
        #[serde(default)]
        resources: Vec<String>,
    }
    match serde_saphyr::from_str::<Listing>(text) {
        Ok(listing) if listing.kind == "Kustomization" => listing
            .resources
            .into_iter()
            .filter(|f| {
                f.ends_with(".yaml")
                    && !f.starts_with('.')
                    && !f.contains(['/', '\\'])
                    && f != "kustomization.yaml"
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Write `text` to a file only its owner can read: created 0600, and an existing file is
/// narrowed to 0600 before anything is written into it.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// A `kustomization.yaml` listing every object file, so `kubectl kustomize DIR` rebuilds exactly
/// the rendered objects and users can layer their own patches on top.
pub fn kustomization<'a>(files: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for file in files {
        out.push_str("  - ");
        out.push_str(file);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_map(name: &str) -> Object {
        Object::from_json(
            "v1",
            "ConfigMap",
            name.into(),
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}),
        )
    }

    #[test]
    fn files_of_objects_no_longer_rendered_are_removed() {
        let dir = std::env::temp_dir().join(format!("st2k8s-outdir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_dir(&dir, &[config_map("a"), config_map("b")]).expect("first render");
        std::fs::write(dir.join("notes.yaml"), "mine").expect("user file");
        write_dir(&dir, &[config_map("a")]).expect("second render");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            files,
            ["configmap-a.yaml", "kustomization.yaml", "notes.yaml"]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn only_plain_object_files_of_a_kustomization_are_ours() {
        let ours = kustomization(["configmap-a.yaml"].into_iter());
        assert_eq!(listed_files(&ours), ["configmap-a.yaml"]);
        let other = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base.yaml\n  - sub/x.yaml\n  - .hidden.yaml\n  - kustomization.yaml\n  - remote\n";
        assert!(listed_files(other).is_empty());
        assert!(listed_files("kind: Component\nresources: [a.yaml]\n").is_empty());
        assert!(listed_files("not: [valid").is_empty());
    }
}
