//! `--output-dir DIR`: one file per object (`<kind>-<name>.yaml`) plus a `kustomization.yaml`.
//!
//! DIR often sits in a git checkout or in Argo CD's repo server next to files the user owns, and
//! it holds Secrets, so the writer is built to be trusted as much as those Secrets:
//! - Nothing outside DIR is touched and no link is followed. Every file is written as a new temp
//!   file in DIR (created exclusively, Secrets mode 0600 from the first byte), synced, then
//!   renamed over its destination: a rename replaces a link itself, never what it points to. The
//!   two files read back (`kustomization.yaml` and the record) are opened without following
//!   links, and DIR itself must not be a link (resolving it would write wherever it points).
//! - A failure leaves the previous set. All new files are complete on disk before the first
//!   one replaces an old file; `kustomization.yaml` is swapped after the object files, and files
//!   of objects no longer rendered are removed only after that. Temp files never outlive a run.
//! - One writer at a time: an exclusive lock on `DIR/.st2k8s.lock` is held for the whole
//!   write; a second render waits for it, at most [`LOCK_TIMEOUT`].
//! - The user's files stay the user's. `DIR/.st2k8s-files` records the files st2k8s wrote, and
//!   only those are ever removed. An existing `kustomization.yaml` is parsed and only the entries
//!   for st2k8s's files are replaced: the user's own `resources` (files, directories, remote
//!   bases) and every other field stay, in order. A file that cannot be parsed is refused,
//!   never overwritten.
//!
//! What is read back is bounded ([`MAX_READ_BYTES`]); non-regular files are refused without
//! being opened for long (FIFOs are opened non-blocking).

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value as Json;

use super::push_yaml;
use super::yaml::SharedText;
use crate::object::Object;

/// The kustomization st2k8s writes and updates.
pub const KUSTOMIZATION: &str = "kustomization.yaml";
/// The record of the files st2k8s wrote into DIR, one name per line.
pub const RECORD: &str = ".st2k8s-files";
/// The file locked while a render writes into DIR.
pub const LOCK: &str = ".st2k8s.lock";
/// How long a render waits for another one writing into the same DIR.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(60);
/// Temp files are `<prefix><pid>-<n>`: hidden, and without `.yaml` so that neither kustomize
/// nor `kubectl apply -f DIR` reads one that a killed render left behind.
const TEMP_PREFIX: &str = ".st2k8s-tmp-";
/// Largest `kustomization.yaml` or record read back: real ones are a few kilobytes.
const MAX_READ_BYTES: u64 = 4 * 1024 * 1024;
/// Other names kustomize reads as the kustomization: with one of them next to ours, `kubectl
/// kustomize` refuses the directory.
const OTHER_KUSTOMIZATIONS: [&str; 2] = ["kustomization.yml", "Kustomization"];
/// First line of the record.
const RECORD_HEADER: &str =
    "# Files st2k8s wrote here; it removes them once they are no longer rendered.\n";

/// File name of an object in `--output-dir`: `<kind>-<name>.yaml`, lowercase kind.
pub fn file_name(object: &Object) -> String {
    format!("{}-{}.yaml", object.kind.to_ascii_lowercase(), object.name)
}

/// Whether `name` is a file name st2k8s may write or remove in DIR: one plain path component
/// ending in `.yaml`, not hidden (st2k8s's own bookkeeping files are), not the kustomization.
fn is_object_file(name: &str) -> bool {
    name.len() <= 255
        && name.ends_with(".yaml")
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && !name.chars().any(char::is_control)
        && name != KUSTOMIZATION
}

/// One object's file, rendered.
struct Rendered {
    name: String,
    text: String,
    /// Readable by the owner only (Secrets).
    private: bool,
}

/// How [`write_files`] writes bytes into a staged file; tests put a failing one in.
type WriteFn<'a> = dyn FnMut(&str, &mut File, &[u8]) -> io::Result<()> + 'a;

/// Write one file per object into `dir` (created if missing), update its `kustomization.yaml`
/// and remove the files of objects an earlier render wrote that this one no longer has, so
/// `kubectl apply -f DIR` does not bring them back. See the module doc for the guarantees.
pub fn write_dir(dir: &Path, objects: &[Object]) -> Result<()> {
    let files = render_files(objects)?;
    write_files(dir, &files, LOCK_TIMEOUT, &mut |_, file, bytes| {
        file.write_all(bytes)
    })
}

/// Serialize every object and check its file name; nothing is written yet.
fn render_files(objects: &[Object]) -> Result<Vec<Rendered>> {
    let mut shared = SharedText::default();
    let mut seen = HashSet::with_capacity(objects.len());
    let mut files = Vec::with_capacity(objects.len());
    let mut total = 0;
    for object in objects {
        let name = file_name(object);
        if !is_object_file(&name) {
            bail!(
                "{}/{} cannot be written to --output-dir: `{}` is not a plain file name",
                object.kind,
                object.name,
                name.escape_debug()
            );
        }
        if !seen.insert(name.clone()) {
            bail!(
                "two objects would be written to the same file `{name}` in --output-dir ({}/{})",
                object.kind,
                object.name
            );
        }
        let mut text = String::with_capacity(4096);
        push_yaml(&mut text, object, &mut shared)?;
        total += text.len();
        super::check_size(total)?;
        files.push(Rendered {
            name,
            text,
            private: object.kind == "Secret",
        });
    }
    Ok(files)
}

/// [`write_dir`] with the lock timeout and the byte writer as parameters, for tests.
fn write_files(
    dir: &Path,
    files: &[Rendered],
    lock_timeout: Duration,
    write: &mut WriteFn<'_>,
) -> Result<()> {
    let dir = prepare_dir(dir)?;
    let dir = dir.as_path();
    let _lock = lock(dir, lock_timeout)?;
    remove_leftover_temps(dir)?;
    for other in OTHER_KUSTOMIZATIONS {
        if fs::symlink_metadata(dir.join(other)).is_ok() {
            bail!(
                "`{}` is in the output directory: kustomize would find two kustomizations; \
                 st2k8s writes `{KUSTOMIZATION}`, remove or rename `{other}`",
                dir.join(other).display()
            );
        }
    }

    let kustomization_path = dir.join(KUSTOMIZATION);
    let record_path = dir.join(RECORD);
    let (previous, private_kustomization) = match read_back(&kustomization_path)? {
        Some((text, private)) => (Some(text), private),
        None => (None, false),
    };
    let owned_before = match read_back(&record_path)? {
        Some((text, _)) => parse_record(&text, &record_path)?,
        None => previous
            .as_deref()
            .and_then(written_by_unrecorded_st2k8s)
            .unwrap_or_default(),
    };
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let kustomization = updated_kustomization(
        previous.as_deref(),
        &owned_before,
        &names,
        &kustomization_path,
    )?;
    let current: HashSet<&str> = names.iter().copied().collect();
    let stale: Vec<&str> = owned_before
        .iter()
        .map(String::as_str)
        .filter(|f| !current.contains(f))
        .collect();

    // Everything new is complete on disk before anything old is replaced.
    let mut staged = Staged::new(dir);
    // While stale files still exist, the record keeps listing them, so a render that dies
    // before removing them still removes them the next time.
    let interim_record = (!stale.is_empty())
        .then(|| {
            staged.add(
                RECORD,
                record(names.iter().chain(&stale).copied()).as_bytes(),
                false,
                write,
            )
        })
        .transpose()?;
    let mut object_files = Vec::with_capacity(files.len());
    for file in files {
        object_files.push(staged.add(&file.name, file.text.as_bytes(), file.private, write)?);
    }
    // The user's kustomization may hold secrets of their own (`secretGenerator` literals): a file
    // they made private stays private.
    let kustomization = staged.add(
        KUSTOMIZATION,
        kustomization.as_bytes(),
        private_kustomization,
        write,
    )?;
    let final_record = staged.add(
        RECORD,
        record(names.iter().copied()).as_bytes(),
        false,
        write,
    )?;
    staged.check_destinations()?;

    if let Some(interim) = interim_record {
        staged.replace(interim)?;
    }
    for file in object_files {
        staged.replace(file)?;
    }
    staged.replace(kustomization)?;
    for name in stale {
        let path = dir.join(name);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot remove `{}`", path.display()));
            }
            _ => {}
        }
    }
    staged.replace(final_record)?;
    // Make the renames durable; not every file system can sync a directory, and the files
    // themselves are already synced.
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
    Ok(())
}

/// Check that `dir` is a directory and not a link, creating it when missing. Returns it without
/// a trailing `/` (with one, the system would follow a link while checking it). Links among
/// the parents are the user's path to DIR (`/tmp` is one on macOS) and are followed.
fn prepare_dir(dir: &Path) -> Result<PathBuf> {
    let dir: PathBuf = dir.components().collect();
    if dir.as_os_str().is_empty() {
        bail!("--output-dir needs a directory");
    }
    if let Err(e) = fs::symlink_metadata(&dir) {
        if e.kind() != io::ErrorKind::NotFound {
            return Err(e).with_context(|| format!("cannot read `{}`", dir.display()));
        }
        fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    let meta =
        fs::symlink_metadata(&dir).with_context(|| format!("cannot read `{}`", dir.display()))?;
    if meta.file_type().is_symlink() {
        bail!(
            "--output-dir `{}` is a symbolic link; st2k8s does not follow links in the output \
             directory, give the directory it points to",
            dir.display()
        );
    }
    if !meta.is_dir() {
        bail!("--output-dir `{}` is not a directory", dir.display());
    }
    Ok(dir)
}

/// Open options that never follow a link in the last component and never block on a FIFO.
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options
}

/// Open an existing bookkeeping file in DIR (`None` when missing), refusing links and anything
/// that is not a regular file.
fn open_own(path: &Path, options: &OpenOptions) -> Result<Option<File>> {
    let refuse_link = || {
        anyhow::anyhow!(
            "`{}` is a symbolic link; st2k8s does not follow links in the output directory, \
             replace it with a regular file",
            path.display()
        )
    };
    if !cfg!(unix) && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(refuse_link());
    }
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(_) if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) => {
            return Err(refuse_link());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot open `{}`", path.display())),
    };
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    if !meta.is_file() {
        bail!("`{}` is not a regular file", path.display());
    }
    Ok(Some(file))
}

/// The text of `kustomization.yaml` or the record, `None` when missing: at most
/// [`MAX_READ_BYTES`], UTF-8, never through a link; and whether the file is private (no access
/// for group or others).
fn read_back(path: &Path) -> Result<Option<(String, bool)>> {
    let Some(file) = open_own(path, no_follow(OpenOptions::new().read(true)))? else {
        return Ok(None);
    };
    #[cfg(unix)]
    let private = {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = file
            .metadata()
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        meta.permissions().mode() & 0o077 == 0
    };
    #[cfg(not(unix))]
    let private = false;
    let mut bytes = Vec::new();
    file.take(MAX_READ_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    if bytes.len() as u64 > MAX_READ_BYTES {
        bail!(
            "`{}` is larger than {} MiB; st2k8s only reads back a kustomization of a few \
             kilobytes",
            path.display(),
            MAX_READ_BYTES / (1024 * 1024)
        );
    }
    String::from_utf8(bytes)
        .map(|text| Some((text, private)))
        .map_err(|_| anyhow::anyhow!("`{}` is not UTF-8 text", path.display()))
}

/// Take the lock of DIR, waiting for another render at most `timeout`. The lock is released
/// when the returned file is dropped; the lock file stays (removing it would let a third
/// render lock a new file while the second still holds the old one).
fn lock(dir: &Path, timeout: Duration) -> Result<File> {
    let path = dir.join(LOCK);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let Some(file) = open_own(&path, no_follow(&mut options))? else {
        bail!("cannot create `{}`", path.display());
    };
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(fs::TryLockError::WouldBlock) => {
                let waited = start.elapsed();
                if waited >= timeout {
                    bail!(
                        "another st2k8s render is writing into `{}` (it holds `{}`); gave up \
                         after waiting {} s",
                        dir.display(),
                        path.display(),
                        timeout.as_secs_f32()
                    );
                }
                std::thread::sleep((timeout - waited).min(Duration::from_millis(50)));
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock `{}`", path.display()));
            }
        }
    }
}

/// Remove the temp files of a render that was killed (the lock is held, so no running render
/// owns them).
fn remove_leftover_temps(dir: &Path) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot list `{}`", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list `{}`", dir.display()))?;
        let is_temp = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(TEMP_PREFIX));
        if is_temp && entry.file_type().is_ok_and(|t| !t.is_dir()) {
            let path = entry.path();
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("cannot remove `{}`", path.display()));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The text of the record listing `names`.
fn record<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::from(RECORD_HEADER);
    for name in names {
        out.push_str(name);
        out.push('\n');
    }
    out
}

/// The file names in a record; a line that is no file st2k8s writes is an error, not a reason
/// to remove something else.
fn parse_record(text: &str, path: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !is_object_file(line) {
            bail!(
                "`{}` line {}: not a file name st2k8s writes; the record of the files st2k8s \
                 wrote is damaged (delete it: st2k8s then removes none of the old files)",
                path.display(),
                n + 1
            );
        }
        names.push(line.to_string());
    }
    Ok(names)
}

/// The files of a `kustomization.yaml` that an st2k8s without a record wrote: its text is
/// exactly [`kustomization`] of its resources. Anything else was edited, and lists nothing.
fn written_by_unrecorded_st2k8s(text: &str) -> Option<Vec<String>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "only checked through the text comparison")]
    struct Listing {
        #[serde(rename = "apiVersion")]
        api_version: String,
        kind: String,
        resources: Vec<String>,
    }
    let listing = serde_saphyr::from_str::<Listing>(text).ok()?;
    let all_ours = listing.resources.iter().all(|r| is_object_file(r));
    (all_ours && kustomization(listing.resources.iter().map(String::as_str)) == text)
        .then_some(listing.resources)
}

/// The new `kustomization.yaml`: `names` replace the entries of the files st2k8s wrote before
/// (at the place of the first one, else after the user's), everything else is kept in order.
fn updated_kustomization(
    previous: Option<&str>,
    owned_before: &[String],
    names: &[&str],
    path: &Path,
) -> Result<String> {
    let Some(text) = previous else {
        return Ok(kustomization(names.iter().copied()));
    };
    let file = path.display();
    // No snippet in the error: a generator in the file may hold a secret literal.
    let options = serde_saphyr::options!(with_snippet: false);
    let document: Json = serde_saphyr::from_str_with_options(text, options).with_context(|| {
        format!(
            "cannot read `{file}`; st2k8s keeps the user's entries in it and does not \
             overwrite a file it cannot parse"
        )
    })?;
    let mut map = match document {
        Json::Object(map) => map,
        Json::Null => serde_json::Map::new(),
        _ => bail!("`{file}` is not a kustomization: its top level is not a map"),
    };
    if let Some(kind) = map
        .get("kind")
        .filter(|k| k.as_str() != Some("Kustomization"))
    {
        bail!("`{file}` is not a kustomization: its kind is {kind}, not Kustomization");
    }
    let resources = match map.get("resources") {
        None | Some(Json::Null) => &Vec::new(),
        Some(Json::Array(items)) => items,
        Some(_) => bail!("`{file}`: `resources` is not a list"),
    };
    let owned: HashSet<&str> = owned_before
        .iter()
        .map(String::as_str)
        .chain(names.iter().copied())
        .collect();
    let mut kept = Vec::with_capacity(resources.len() + names.len());
    let mut ours_at = None;
    for (i, resource) in resources.iter().enumerate() {
        let Some(entry) = resource.as_str() else {
            bail!("`{file}`: `resources[{i}]` is not a string");
        };
        if owned.contains(entry) {
            ours_at.get_or_insert(kept.len());
        } else {
            kept.push(resource.clone());
        }
    }
    let at = ours_at.unwrap_or(kept.len());
    kept.splice(at..at, names.iter().map(|n| Json::String(n.to_string())));
    if map.is_empty() {
        return Ok(kustomization(names.iter().copied()));
    }
    map.insert("resources".into(), Json::Array(kept));
    let plain: Option<Vec<&str>> = match map.get("resources") {
        Some(Json::Array(items)) if map.len() == 3 && is_plain_header(&map) => {
            items.iter().map(Json::as_str).collect()
        }
        _ => None,
    };
    match plain {
        Some(resources) => Ok(kustomization(resources.into_iter())),
        None => serde_saphyr::to_string(&Json::Object(map))
            .with_context(|| format!("cannot write `{file}`")),
    }
}

/// Whether a kustomization has exactly the `apiVersion` and `kind` [`kustomization`] writes.
fn is_plain_header(map: &serde_json::Map<String, Json>) -> bool {
    map.get("apiVersion").and_then(Json::as_str) == Some("kustomize.config.k8s.io/v1beta1")
        && map.get("kind").and_then(Json::as_str) == Some("Kustomization")
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

/// Files written as temp files in DIR and not yet renamed to their names; dropping it removes
/// the temp files that were not.
struct Staged<'a> {
    dir: &'a Path,
    files: Vec<StagedFile>,
}

struct StagedFile {
    temp: PathBuf,
    name: String,
    replaced: bool,
}

/// A staged file, by index.
#[derive(Clone, Copy)]
struct Slot(usize);

impl<'a> Staged<'a> {
    fn new(dir: &'a Path) -> Self {
        Self {
            dir,
            files: Vec::new(),
        }
    }

    /// Write `bytes` to a new temp file for `name` and sync it. A private file is created mode
    /// 0600, so its content is never readable by others, not even for a moment.
    fn add(
        &mut self,
        name: &str,
        bytes: &[u8],
        private: bool,
        write: &mut WriteFn<'_>,
    ) -> Result<Slot> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let (temp, mut file) = loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let temp = self
                .dir
                .join(format!("{TEMP_PREFIX}{}-{n}", std::process::id()));
            let mut options = OpenOptions::new();
            // `create_new` fails on any existing entry, a link included: nothing is followed.
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(if private { 0o600 } else { 0o666 });
            }
            match options.open(&temp) {
                Ok(file) => break (temp, file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create `{}`", temp.display()));
                }
            }
        };
        self.files.push(StagedFile {
            temp,
            name: name.to_string(),
            replaced: false,
        });
        let destination = self.dir.join(name);
        write(name, &mut file, bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write `{}`", destination.display()))?;
        Ok(Slot(self.files.len() - 1))
    }

    /// Fail before anything is replaced if a destination cannot be replaced by a file.
    fn check_destinations(&self) -> Result<()> {
        for file in &self.files {
            let path = self.dir.join(&file.name);
            if fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                bail!(
                    "cannot write `{}`: it is a directory; nothing was changed",
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// Rename a staged file to its name, replacing what was there (a link itself, not its
    /// target).
    fn replace(&mut self, slot: Slot) -> Result<()> {
        let file = &mut self.files[slot.0];
        let path = self.dir.join(&file.name);
        fs::rename(&file.temp, &path)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        file.replaced = true;
        Ok(())
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        for file in self.files.iter().filter(|f| !f.replaced) {
            let _ = fs::remove_file(&file.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn config_map(name: &str) -> Object {
        config_map_with(name, "v")
    }

    fn config_map_with(name: &str, value: &str) -> Object {
        Object::from_json(
            "v1",
            "ConfigMap",
            name.into(),
            serde_json::json!({
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                "data": {"k": value}
            }),
        )
    }

    fn secret(name: &str) -> Object {
        Object::from_json(
            "v1",
            "Secret",
            name.into(),
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}}),
        )
    }

    /// A fresh scratch directory, removed when dropped; `out` is the `--output-dir` in it.
    struct Scratch {
        root: PathBuf,
        out: PathBuf,
    }

    impl Scratch {
        fn new(test: &str) -> Self {
            let root =
                std::env::temp_dir().join(format!("st2k8s-outdir-{test}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&root);
            fs::create_dir_all(&root).expect("scratch dir");
            let out = root.join("out");
            Self { root, out }
        }

        fn out(&self, name: &str) -> PathBuf {
            self.out.join(name)
        }

        fn read(&self, name: &str) -> String {
            fs::read_to_string(self.out(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
        }

        fn write(&self, name: &str, text: &str) {
            fs::write(self.out(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }

        /// Every entry of the output directory: file name → content (`<dir>` for directories,
        /// `-> target` for links).
        fn snapshot(&self) -> BTreeMap<String, String> {
            fs::read_dir(&self.out)
                .expect("read output dir")
                .map(|entry| {
                    let entry = entry.expect("entry");
                    let kind = entry.file_type().expect("file type");
                    let content = if kind.is_dir() {
                        "<dir>".to_string()
                    } else if kind.is_symlink() {
                        format!(
                            "-> {}",
                            fs::read_link(entry.path()).expect("link").display()
                        )
                    } else {
                        fs::read_to_string(entry.path()).expect("read")
                    };
                    (entry.file_name().to_string_lossy().into_owned(), content)
                })
                .collect()
        }

        fn names(&self) -> Vec<String> {
            self.snapshot().into_keys().collect()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    fn error(result: Result<()>) -> String {
        format!("{:#}", result.expect_err("the write fails"))
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path)
            .expect("stat")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn files_of_objects_no_longer_rendered_are_removed() {
        let dir = Scratch::new("stale");
        write_dir(&dir.out, &[config_map("a"), config_map("b")]).expect("first render");
        dir.write("notes.yaml", "mine");
        write_dir(&dir.out, &[config_map("a")]).expect("second render");
        assert_eq!(
            dir.names(),
            [
                ".st2k8s-files",
                ".st2k8s.lock",
                "configmap-a.yaml",
                "kustomization.yaml",
                "notes.yaml"
            ]
        );
        assert_eq!(
            dir.read(RECORD),
            format!("{RECORD_HEADER}configmap-a.yaml\n")
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_in_the_directory_are_replaced_not_followed() {
        let dir = Scratch::new("links");
        fs::create_dir_all(&dir.out).expect("out");
        let outside = dir.root.join("outside.txt");
        fs::write(&outside, "not st2k8s's\n").expect("outside");
        fs::set_permissions(&outside, fs::Permissions::from_mode(0o644)).expect("chmod");
        for name in ["configmap-a.yaml", "secret-s.yaml"] {
            std::os::unix::fs::symlink(&outside, dir.out(name)).expect("link");
        }
        write_dir(&dir.out, &[config_map("a"), secret("s")]).expect("render");
        assert_eq!(
            fs::read_to_string(&outside).expect("outside"),
            "not st2k8s's\n"
        );
        assert_eq!(mode(&outside), 0o644);
        assert!(dir.read("configmap-a.yaml").contains("name: a"));
        assert!(dir.read("secret-s.yaml").contains("name: s"));
        assert_eq!(mode(&dir.out("secret-s.yaml")), 0o600);
        assert!(!dir.snapshot().values().any(|c| c.starts_with("-> ")));
    }

    #[cfg(unix)]
    #[test]
    fn a_private_kustomization_stays_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = Scratch::new("private-kustomization");
        write_dir(&dir.out, &[config_map("a")]).expect("first render");
        let mode = |name: &str| {
            fs::metadata(dir.out(name))
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777
        };
        let text = format!(
            "{}secretGenerator:\n  - name: mine\n    literals: [password=hunter2]\n",
            dir.read(KUSTOMIZATION)
        );
        dir.write(KUSTOMIZATION, &text);
        fs::set_permissions(dir.out(KUSTOMIZATION), fs::Permissions::from_mode(0o600))
            .expect("chmod");
        write_dir(&dir.out, &[config_map("b")]).expect("second render");
        assert!(dir.read(KUSTOMIZATION).contains("hunter2"));
        assert_eq!(mode(KUSTOMIZATION), 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_kustomization_link_is_refused() {
        let dir = Scratch::new("dangling");
        fs::create_dir_all(&dir.out).expect("out");
        let outside = dir.root.join("created-outside.yaml");
        std::os::unix::fs::symlink(&outside, dir.out(KUSTOMIZATION)).expect("link");
        assert_eq!(
            error(write_dir(&dir.out, &[config_map("a")])),
            format!(
                "`{}` is a symbolic link; st2k8s does not follow links in the output directory, \
                 replace it with a regular file",
                dir.out(KUSTOMIZATION).display()
            )
        );
        assert!(fs::symlink_metadata(&outside).is_err(), "nothing outside");
        assert_eq!(dir.names(), [".st2k8s.lock", "kustomization.yaml"]);
        // The lock file is opened without following a link too.
        fs::remove_file(dir.out(LOCK)).expect("remove lock");
        std::os::unix::fs::symlink(&outside, dir.out(LOCK)).expect("link");
        assert_eq!(
            error(write_dir(&dir.out, &[config_map("a")])),
            format!(
                "`{}` is a symbolic link; st2k8s does not follow links in the output directory, \
                 replace it with a regular file",
                dir.out(LOCK).display()
            )
        );
        assert!(fs::symlink_metadata(&outside).is_err(), "nothing outside");
    }

    #[cfg(unix)]
    #[test]
    fn an_output_directory_that_is_a_link_is_refused() {
        let dir = Scratch::new("dirlink");
        let real = dir.root.join("real");
        fs::create_dir_all(&real).expect("real");
        std::os::unix::fs::symlink(&real, &dir.out).expect("link");
        let message = format!(
            "--output-dir `{}` is a symbolic link; st2k8s does not follow links in the output \
             directory, give the directory it points to",
            dir.out.display()
        );
        assert_eq!(error(write_dir(&dir.out, &[config_map("a")])), message);
        // A trailing `/` would make the system follow the link while checking it.
        let slash = PathBuf::from(format!("{}/", dir.out.display()));
        assert_eq!(error(write_dir(&slash, &[config_map("a")])), message);
        assert_eq!(fs::read_dir(&real).expect("real").count(), 0);
    }

    #[test]
    fn names_that_are_not_plain_file_names_are_refused() {
        let dir = Scratch::new("names");
        assert_eq!(
            error(write_dir(&dir.out, &[config_map("a"), config_map("../x")])),
            "ConfigMap/../x cannot be written to --output-dir: `configmap-../x.yaml` is not a \
             plain file name"
        );
        assert_eq!(
            error(write_dir(&dir.out, &[config_map("a"), config_map("a")])),
            "two objects would be written to the same file `configmap-a.yaml` in --output-dir \
             (ConfigMap/a)"
        );
        assert!(!dir.out.exists(), "nothing was written");
        for bad in [
            "a/b.yaml",
            ".hidden.yaml",
            "kustomization.yaml",
            "a.yml",
            "a\n.yaml",
        ] {
            assert!(!is_object_file(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_write_failure_leaves_the_previous_set() {
        let dir = Scratch::new("diskfull");
        write_dir(&dir.out, &[config_map("a"), config_map("b")]).expect("first render");
        let before = dir.snapshot();
        let files = render_files(&[config_map_with("a", "new"), config_map("c")]).expect("render");
        let result = write_files(&dir.out, &files, LOCK_TIMEOUT, &mut |name, file, bytes| {
            if name == "configmap-c.yaml" {
                file.write_all(&bytes[..bytes.len() / 2])?;
                return Err(io::Error::other("no space left on device"));
            }
            file.write_all(bytes)
        });
        assert_eq!(
            error(result),
            format!(
                "cannot write `{}`: no space left on device",
                dir.out("configmap-c.yaml").display()
            )
        );
        assert_eq!(
            dir.snapshot(),
            before,
            "old files, old kustomization, no temp file"
        );
    }

    #[test]
    fn a_destination_that_cannot_be_replaced_leaves_the_previous_set() {
        let dir = Scratch::new("isdir");
        write_dir(&dir.out, &[config_map("a"), config_map("b")]).expect("first render");
        fs::create_dir(dir.out("configmap-c.yaml")).expect("dir in the way");
        let before = dir.snapshot();
        assert_eq!(
            error(write_dir(
                &dir.out,
                &[config_map_with("a", "new"), config_map("c")]
            )),
            format!(
                "cannot write `{}`: it is a directory; nothing was changed",
                dir.out("configmap-c.yaml").display()
            )
        );
        assert_eq!(dir.snapshot(), before);
    }

    #[cfg(unix)]
    #[test]
    fn secret_files_are_private_from_the_first_byte() {
        let dir = Scratch::new("private");
        let files = render_files(&[secret("s"), config_map("a")]).expect("render");
        let mut modes = Vec::new();
        write_files(&dir.out, &files, LOCK_TIMEOUT, &mut |name, file, bytes| {
            let mode = file.metadata()?.permissions().mode() & 0o077;
            modes.push((name.to_string(), mode == 0));
            file.write_all(bytes)
        })
        .expect("render");
        assert_eq!(
            modes[..2],
            [
                ("secret-s.yaml".to_string(), true),
                ("configmap-a.yaml".to_string(), false)
            ]
        );
    }

    #[test]
    fn a_second_render_waits_for_the_lock() {
        let dir = Scratch::new("lock");
        write_dir(&dir.out, &[config_map("a")]).expect("first render");
        let held = File::options()
            .write(true)
            .open(dir.out(LOCK))
            .expect("lock file");
        held.lock().expect("lock");
        let files = render_files(&[config_map("b")]).expect("render");
        let plain_write: &mut WriteFn<'_> = &mut |_, file, bytes| file.write_all(bytes);
        assert_eq!(
            error(write_files(
                &dir.out,
                &files,
                Duration::from_millis(200),
                plain_write
            )),
            format!(
                "another st2k8s render is writing into `{}` (it holds `{}`); gave up after \
                 waiting 0.2 s",
                dir.out.display(),
                dir.out(LOCK).display()
            )
        );
        assert_eq!(
            dir.read(KUSTOMIZATION),
            kustomization(["configmap-a.yaml"].into_iter())
        );
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(held);
        });
        write_files(&dir.out, &files, Duration::from_secs(30), plain_write)
            .expect("waits, then writes");
        release.join().expect("thread");
        assert_eq!(
            dir.read(KUSTOMIZATION),
            kustomization(["configmap-b.yaml"].into_iter())
        );
    }

    #[test]
    fn concurrent_renders_leave_a_consistent_set() {
        let dir = Scratch::new("concurrent");
        let sets: [&[&str]; 2] = [&["a", "b", "c"], &["d"]];
        std::thread::scope(|scope| {
            for set in sets {
                let out = &dir.out;
                scope.spawn(move || {
                    let objects: Vec<Object> = set.iter().map(|n| config_map(n)).collect();
                    for _ in 0..20 {
                        write_dir(out, &objects).expect("render");
                    }
                });
            }
        });
        let listed = written_by_unrecorded_st2k8s(&dir.read(KUSTOMIZATION)).expect("ours");
        let files: Vec<String> = dir
            .names()
            .into_iter()
            .filter(|n| is_object_file(n))
            .collect();
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(sorted, files, "kustomization.yaml lists exactly the files");
        assert!(
            files == ["configmap-a.yaml", "configmap-b.yaml", "configmap-c.yaml"]
                || files == ["configmap-d.yaml"]
        );
        assert_eq!(
            parse_record(&dir.read(RECORD), Path::new(RECORD)).expect("record"),
            listed
        );
    }

    #[test]
    fn the_users_files_and_kustomization_entries_are_kept() {
        let dir = Scratch::new("user");
        write_dir(&dir.out, &[config_map("a"), config_map("b")]).expect("first render");
        dir.write("notes.yaml", "mine");
        dir.write(
            KUSTOMIZATION,
            "# my overlay\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
             namespace: prod\nresources:\n  - ../base\n  - configmap-a.yaml\n  \
             - configmap-b.yaml\n  - notes.yaml\n  - https://github.com/example/repo//deploy?ref=v1\n\
             patches:\n  - path: patch.yaml\ncommonLabels:\n  team: ops\n",
        );
        write_dir(&dir.out, &[config_map("a"), config_map("c")]).expect("second render");
        assert_eq!(
            dir.read(KUSTOMIZATION),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
             namespace: prod\nresources:\n- ../base\n- configmap-a.yaml\n\
             - configmap-c.yaml\n- notes.yaml\n- https://github.com/example/repo//deploy?ref=v1\n\
             patches:\n- path: patch.yaml\ncommonLabels:\n  team: ops\n",
            "the user's entries and fields in order, st2k8s's files in place of the old ones"
        );
        assert_eq!(dir.read("notes.yaml"), "mine");
        assert!(!dir.out("configmap-b.yaml").exists());
        // A file the user listed that st2k8s never wrote is the user's, whatever its name.
        dir.write("configmap-x.yaml", "mine too");
        let text = dir
            .read(KUSTOMIZATION)
            .replace("- notes.yaml\n", "- notes.yaml\n- configmap-x.yaml\n");
        dir.write(KUSTOMIZATION, &text);
        write_dir(&dir.out, &[config_map("a")]).expect("third render");
        assert_eq!(dir.read("configmap-x.yaml"), "mine too");
        assert!(
            dir.read(KUSTOMIZATION)
                .contains("- ../base\n- configmap-a.yaml\n- notes.yaml\n- configmap-x.yaml\n")
        );
    }

    #[test]
    fn a_kustomization_that_cannot_be_parsed_is_refused() {
        let dir = Scratch::new("unparsable");
        fs::create_dir_all(&dir.out).expect("out");
        let path = dir.out(KUSTOMIZATION).display().to_string();
        for (text, message) in [
            (
                "resources: [a.yaml\n",
                format!(
                    "cannot read `{path}`; st2k8s keeps the user's entries in it and does not \
                     overwrite a file it cannot parse"
                ),
            ),
            (
                "- a.yaml\n",
                format!("`{path}` is not a kustomization: its top level is not a map"),
            ),
            (
                "kind: Component\n",
                format!(
                    "`{path}` is not a kustomization: its kind is \"Component\", not Kustomization"
                ),
            ),
            (
                "resources: a.yaml\n",
                format!("`{path}`: `resources` is not a list"),
            ),
            (
                "resources:\n  - a.yaml\n  - {path: b}\n",
                format!("`{path}`: `resources[1]` is not a string"),
            ),
        ] {
            dir.write(KUSTOMIZATION, text);
            let result = error(write_dir(&dir.out, &[config_map("a")]));
            assert!(result.starts_with(&message), "{text:?}: {result}");
            assert_eq!(dir.read(KUSTOMIZATION), text);
            assert!(!dir.out("configmap-a.yaml").exists());
        }
        dir.write(KUSTOMIZATION, &"#".repeat(4 * 1024 * 1024 + 1));
        assert_eq!(
            error(write_dir(&dir.out, &[config_map("a")])),
            format!(
                "`{path}` is larger than 4 MiB; st2k8s only reads back a kustomization of a few \
                 kilobytes"
            )
        );
        fs::remove_file(dir.out(KUSTOMIZATION)).expect("remove");
        dir.write("kustomization.yml", "resources: []\n");
        assert_eq!(
            error(write_dir(&dir.out, &[config_map("a")])),
            format!(
                "`{}` is in the output directory: kustomize would find two kustomizations; \
                 st2k8s writes `kustomization.yaml`, remove or rename `kustomization.yml`",
                dir.out("kustomization.yml").display()
            )
        );
    }

    #[test]
    fn a_damaged_record_is_refused() {
        let dir = Scratch::new("record");
        write_dir(&dir.out, &[config_map("a")]).expect("first render");
        dir.write(
            RECORD,
            &format!("{RECORD_HEADER}configmap-a.yaml\n../outside.yaml\n"),
        );
        assert_eq!(
            error(write_dir(&dir.out, &[config_map("b")])),
            format!(
                "`{}` line 3: not a file name st2k8s writes; the record of the files st2k8s \
                 wrote is damaged (delete it: st2k8s then removes none of the old files)",
                dir.out(RECORD).display()
            )
        );
        assert!(dir.out("configmap-a.yaml").exists());
    }

    #[test]
    fn files_listed_by_an_st2k8s_without_record_are_taken_over() {
        let dir = Scratch::new("migrate");
        fs::create_dir_all(&dir.out).expect("out");
        dir.write("configmap-a.yaml", "old");
        dir.write("configmap-b.yaml", "old");
        dir.write(
            KUSTOMIZATION,
            &kustomization(["configmap-a.yaml", "configmap-b.yaml"].into_iter()),
        );
        write_dir(&dir.out, &[config_map("a")]).expect("render");
        assert!(!dir.out("configmap-b.yaml").exists());
        // Edited by the user: nothing in it is taken for st2k8s's.
        dir.write("configmap-z.yaml", "mine");
        dir.write(
            KUSTOMIZATION,
            "namespace: x\nresources:\n  - configmap-z.yaml\n",
        );
        fs::remove_file(dir.out(RECORD)).expect("no record");
        write_dir(&dir.out, &[config_map("a")]).expect("render");
        assert_eq!(dir.read("configmap-z.yaml"), "mine");
    }

    #[test]
    fn stale_files_stay_recorded_until_they_are_removed() {
        let dir = Scratch::new("interim");
        write_dir(&dir.out, &[config_map("a"), config_map("b")]).expect("first render");
        fs::remove_file(dir.out("configmap-b.yaml")).expect("remove");
        fs::create_dir(dir.out("configmap-b.yaml")).expect("cannot be removed as a file");
        let result = error(write_dir(&dir.out, &[config_map("c")]));
        assert!(
            result.starts_with(&format!(
                "cannot remove `{}`: ",
                dir.out("configmap-b.yaml").display()
            )),
            "{result}"
        );
        assert_eq!(
            dir.read(RECORD),
            format!("{RECORD_HEADER}configmap-c.yaml\nconfigmap-a.yaml\nconfigmap-b.yaml\n")
        );
        fs::remove_dir(dir.out("configmap-b.yaml")).expect("rmdir");
        write_dir(&dir.out, &[config_map("c")]).expect("next render");
        assert_eq!(
            dir.read(RECORD),
            format!("{RECORD_HEADER}configmap-c.yaml\n")
        );
        assert!(!dir.out("configmap-a.yaml").exists());
    }

    #[test]
    fn temp_files_of_a_killed_render_are_removed() {
        let dir = Scratch::new("leftover");
        fs::create_dir_all(&dir.out).expect("out");
        dir.write(".st2k8s-tmp-1-1", "half a Secret");
        write_dir(&dir.out, &[config_map("a")]).expect("render");
        assert!(!dir.out(".st2k8s-tmp-1-1").exists());
    }
}
