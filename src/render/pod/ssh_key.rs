//! Where the system user's SSH key lives.
//!
//! The key file is `st2.system_user.ssh_key_file`, evaluated as a template; the Secret is
//! mounted at `<parent>/.ssh-key-vol/<base>` and the post-start script copies it to the key
//! file. Paths follow Go's `path.Dir`/`path.Base`.

use anyhow::Result;

use crate::render::ctx::Ctx;

/// The key file and the directories derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKeyPaths {
    /// The key file st2 reads (`[system_user] ssh_key_file`).
    pub file: String,
    /// The directory holding it (`~/.ssh`).
    pub dir: String,
    /// The directory above (`~`), where the Secret volume is mounted as `.ssh-key-vol/`.
    pub parent: String,
    /// The key's file name.
    pub base: String,
}

impl SshKeyPaths {
    /// Where the Secret volume with the key is mounted: `<parent>/.ssh-key-vol/`.
    pub fn volume_mount_path(&self) -> String {
        format!("{}/.ssh-key-vol/", self.parent)
    }
}

/// Resolve `st2.system_user.ssh_key_file`.
pub fn paths(ctx: &Ctx) -> Result<SshKeyPaths> {
    Ok(from_file(ctx.tpl_value("st2.system_user.ssh_key_file")?))
}

fn from_file(file: String) -> SshKeyPaths {
    let dir = dir(&file);
    SshKeyPaths {
        parent: self::dir(&dir),
        base: base(&file),
        dir,
        file,
    }
}

/// Go `path.Dir`: everything before the last `/`, cleaned.
fn dir(path: &str) -> String {
    let head = path.rfind('/').map_or("", |i| &path[..=i]);
    clean(head)
}

/// Go `path.Base`: the last element, trailing slashes ignored; `.` for "", `/` for all slashes.
fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

/// Go `path.Clean`: drop empty and `.` elements, resolve `..` lexically.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_paths_like_go() {
        let p = from_file("/home/stanley/.ssh/stanley_rsa".into());
        assert_eq!(
            (p.dir.as_str(), p.parent.as_str(), p.base.as_str()),
            ("/home/stanley/.ssh", "/home/stanley", "stanley_rsa")
        );
        for (path, want_dir, want_base) in [
            ("", ".", "."),
            ("key", ".", "key"),
            ("/key", "/", "key"),
            ("a//b/./c", "a/b", "c"),
            ("/a/b/../c/key", "/a/c", "key"),
            ("../x/key", "../x", "key"),
            ("/dir/", "/dir", "dir"),
            ("///", "/", "/"),
        ] {
            assert_eq!(
                (dir(path), base(path)),
                (want_dir.to_string(), want_base.to_string()),
                "{path:?}"
            );
        }
    }
}
