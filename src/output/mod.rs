//! Writing rendered objects: one YAML stream on stdout, or one file per object in a directory.
//!
//! The YAML is serde-saphyr's (it quotes strings YAML 1.1 would misread, `"yes"`, `"0777"`, and
//! prints multi-line strings as block scalars), written by our own emitter in [`yaml`]: calling
//! serde-saphyr per object cost ~75 instructions per output byte, most of a large render. The
//! emitter only fast-paths what it can prove serde-saphyr writes the same way and delegates every
//! other scalar to serde-saphyr; its tests compare it byte for byte with `serde_saphyr::to_string`
//! on every scenario render, tricky strings and random trees. Output is only written after the
//! whole render succeeded, so a failure never leaves partial output; it is then written in
//! chunks as it is serialized, never held whole.

mod yaml;

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use self::yaml::SharedText;
use crate::object::Object;

/// Serialize one object as a YAML document body (no leading `---`).
pub fn to_yaml(object: &Object) -> Result<String> {
    let mut out = String::with_capacity(4096);
    push_yaml(&mut out, object, &mut SharedText::default())?;
    Ok(out)
}

/// Append one object's YAML document body (no leading `---`) to `out`.
fn push_yaml(out: &mut String, object: &Object, shared: &mut SharedText) -> Result<()> {
    yaml::push_document(out, object, shared)
        .with_context(|| format!("serializing {}/{}", object.kind, object.name))
}

/// All objects as one multi-document stream, each document led by `---`.
pub fn to_yaml_stream(objects: &[Object]) -> Result<String> {
    let mut out = Vec::with_capacity(objects.len() * 4096);
    write_stream(objects, &mut out)?;
    // Only whole `str`s were written.
    String::from_utf8(out).context("the YAML stream is not UTF-8")
}

/// Bytes of YAML gathered before they are handed to the writer: small enough to stay in cache
/// (a large render writes megabytes), large enough for few system calls.
const CHUNK: usize = 128 * 1024;

/// Write all objects as one multi-document stream, each document led by `---`, in chunks.
/// Serializing a rendered object cannot fail (its body is plain JSON), so once the render
/// succeeded only `out` can stop the stream.
pub fn write_stream(objects: &[Object], out: &mut impl Write) -> Result<()> {
    let mut chunk = String::with_capacity(2 * CHUNK);
    let mut shared = SharedText::default();
    for object in objects {
        chunk.push_str("---\n");
        push_yaml(&mut chunk, object, &mut shared)?;
        if chunk.len() >= CHUNK {
            out.write_all(chunk.as_bytes())?;
            chunk.clear();
        }
    }
    out.write_all(chunk.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Write bytes to stdout in one go.
pub fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()
}

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
