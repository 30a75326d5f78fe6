//! Which StackStorm version the release runs, and the checks that depend on it.
//!
//! The chart pins StackStorm 3.8 through `image.tag` (`{{ .Chart.AppVersion }}`); users move to
//! 3.9 by changing the tag. st2.conf options and the MongoDB versions StackStorm accepts differ
//! between the two, so st2k8s reads the version from the evaluated `image.tag` (`3.9`, `3.9.0`,
//! `v3.9.0`, `3.9dev`, `3.8.1-custom`, `3.9@sha256:…`) or from the st2k8s key `st2.version`, which
//! wins. A tag that names no version (`latest`, a bare digest) or an unknown one means 3.8, with
//! one warning saying so. Components on other versions than the release (per-component tags),
//! bundled MongoDB releases the version does not support and pack images that may have been
//! built for another version are reported here, once per render.

use crate::render::ctx::Ctx;
use crate::render::images;
use crate::values::Value;
use crate::values::check::{Finding, Severity};

pub use crate::stackstorm::{Source, Version};

/// `major.minor` of an image tag: `[v]MAJOR.MINOR` followed by nothing, `.PATCH…`, `dev…`,
/// `-suffix` or `@digest`. `latest`, a bare digest or `3` give `None`.
pub fn parse_tag(tag: &str) -> Option<(u32, u32)> {
    let tag = tag.split('@').next().unwrap_or_default();
    let tag = tag.strip_prefix('v').unwrap_or(tag);
    let (major, rest) = split_number(tag)?;
    let (minor, rest) = split_number(rest.strip_prefix('.')?)?;
    let ends = rest.is_empty() || rest.starts_with(['.', '-', '+', '_']) || rest.starts_with("dev");
    ends.then_some((major, minor))
}

/// A leading decimal number (at most 5 digits) and the rest.
fn split_number(s: &str) -> Option<(u32, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 5 {
        return None;
    }
    Some((s[..digits].parse().ok()?, &s[digits..]))
}

/// The release's StackStorm version and where it came from, worked out on the first call of a
/// render (it evaluates `image.tag`). `st2.version` must be `3.8` or `3.9`; anything else is an
/// error (reported by [`check`]) and the default applies.
pub fn of_release<'c>(ctx: &'c Ctx) -> &'c (Version, Source) {
    ctx.shared.st2_version.get_or_init(|| evaluate(ctx))
}

/// [`of_release`], evaluated.
fn evaluate(ctx: &Ctx) -> (Version, Source) {
    let stated = ctx.v("st2.version");
    if stated.truthy() {
        return match stated_version(stated.value()) {
            Some(v) => (v, Source::Stated),
            None => (Version::DEFAULT, Source::Unknown(String::new())),
        };
    }
    let Ok(tag) = ctx.tpl_value("image.tag") else {
        // The render reports the broken template itself.
        return (Version::DEFAULT, Source::Unknown(String::new()));
    };
    match parse_tag(&tag) {
        Some((major, minor)) => match Version::from_major_minor(major, minor) {
            Some(v) => (v, Source::Tag(tag)),
            None => {
                let why = format!(
                    "StackStorm {major}.{minor} (`image.tag` is `{tag}`) is not a version st2k8s knows (3.8, 3.9)"
                );
                (Version::DEFAULT, Source::Unknown(why))
            }
        },
        None => {
            let why = format!("cannot tell the StackStorm version from `image.tag` `{tag}`");
            (Version::DEFAULT, Source::Unknown(why))
        }
    }
}

/// The version [`of_release`] selects.
pub fn release(ctx: &Ctx) -> Version {
    of_release(ctx).0
}

fn stated_version(value: &Value) -> Option<Version> {
    let text = value.to_go_string();
    Version::ALL.into_iter().find(|v| v.as_str() == text)
}

/// Values sections with an image tag: every component, and the setup Jobs.
fn tagged_sections() -> impl Iterator<Item = &'static str> {
    crate::components::ALL.into_iter().chain(["jobs"])
}

fn warn(ctx: &Ctx, path: &str, message: String) {
    ctx.report(Finding {
        severity: Severity::Warning,
        path: path.to_string(),
        location: None,
        within: None,
        message,
    });
}

/// Report what depends on the version: an invalid `st2.version`, a version that could not be
/// told, components on another version, a bundled MongoDB the version does not support, and
/// (as a note) pack images that must match the version.
pub fn check(ctx: &Ctx) {
    let (version, source) = of_release(ctx);
    let version = *version;
    let stated = ctx.v("st2.version");
    if stated.truthy() && stated_version(stated.value()).is_none() {
        ctx.report(Finding {
            severity: Severity::Error,
            path: "st2.version".into(),
            location: None,
            within: None,
            message: "not a StackStorm version st2k8s knows; use 3.8 or 3.9".to_string(),
        });
    }
    match source {
        Source::Unknown(why) if !why.is_empty() => warn(
            ctx,
            "image.tag",
            format!(
                "{why}; st2k8s assumes {} (set `st2.version` to say which)",
                version.as_str()
            ),
        ),
        _ => {}
    }
    let release_named = match &source {
        Source::Stated => format!("`st2.version` says {}", version.as_str()),
        _ => format!("the release runs {} (`image.tag`)", version.as_str()),
    };
    // Each image's tag key as the builders choose it (the first set key of the section's
    // chain, else `image.tag`), with the template of a one-sensor-per-pod entry's own tag.
    // `st2chatops` is checked only when enabled.
    let mut tag_keys: Vec<(String, Option<String>)> = Vec::new();
    let mut add = |key: String, raw: Option<String>| {
        if !tag_keys.iter().any(|(k, _)| *k == key) {
            tag_keys.push((key, raw));
        }
    };
    if *source == Source::Stated {
        add("image.tag".into(), None);
    }
    for section in tagged_sections() {
        if section == "st2chatops" && !ctx.v("st2chatops.enabled").truthy() {
            continue;
        }
        if let Some(key) = images::tag_chain(section)
            .into_iter()
            .find(|p| ctx.v(p).truthy())
        {
            add(key, None);
        }
    }
    for (i, sensor) in ctx.v("st2.packs.sensors").as_list().iter().enumerate() {
        let raw = sensor.at("image.tag");
        if raw.truthy() {
            add(
                format!("st2.packs.sensors[{i}].image.tag"),
                Some(raw.to_go_string()),
            );
        }
    }
    for (key, raw) in &tag_keys {
        let tag = match raw {
            Some(raw) => ctx.tpl(raw, key).ok(),
            None => ctx.tpl_value(key).ok(),
        };
        let Some(tag) = tag else { continue };
        let Some((major, minor)) = parse_tag(&tag) else {
            continue;
        };
        if format!("{major}.{minor}") != version.as_str() {
            warn(
                ctx,
                key,
                format!(
                    "tag `{tag}` is StackStorm {major}.{minor} while {release_named}; run every component on one StackStorm version"
                ),
            );
        }
    }
    check_mongodb(ctx, version, &release_named);
    if version != Version::DEFAULT && !ctx.v("st2.packs.images").as_list().is_empty() {
        ctx.report(Finding {
            severity: Severity::Note,
            path: "st2.packs.images".into(),
            location: None,
            within: None,
            message: format!(
                "pack images carry virtualenvs built for one StackStorm version: make sure they were built for StackStorm {} (rebuild them on every StackStorm upgrade)",
                version.as_str()
            ),
        });
    }
}

/// The bundled MongoDB's major version must be one the StackStorm version supports.
fn check_mongodb(ctx: &Ctx, version: Version, release_named: &str) {
    if !ctx.v("mongodb.enabled").truthy() {
        return;
    }
    // The official flavor's tag comes from `mongodb.official.version` unless the user pins one.
    let Some((tag, key)) = crate::render::backends::mongodb::effective_tag(ctx) else {
        return;
    };
    let Some((major, minor)) = parse_tag(&tag) else {
        return;
    };
    let max = version.max_mongodb();
    if major > max {
        let hint = match (version, key) {
            (Version::V3_8, "mongodb.image.tag") => {
                "keep `mongodb.image.tag` at 4.4, or move to StackStorm 3.9 (`image.tag`) first"
            }
            (Version::V3_8, _) => {
                "keep `mongodb.flavor: bitnami` (MongoDB 4.4), or move to StackStorm 3.9 (`image.tag`) first"
            }
            (Version::V3_9, _) => "use MongoDB 7.0 or older",
        };
        ctx.report(Finding {
            severity: Severity::Error,
            path: key.into(),
            location: None,
            within: None,
            message: format!(
                "MongoDB {major}.{minor} (tag `{tag}`) with StackStorm {}: {release_named}, and StackStorm {} supports MongoDB up to {}; {hint}",
                version.as_str(),
                version.as_str(),
                match version {
                    Version::V3_8 => "4.4",
                    Version::V3_9 => "7.x",
                },
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::with_ctx;

    #[test]
    fn the_release_version_is_worked_out_once_per_render() {
        with_ctx("image: {tag: 'v3.9.1'}", |ctx| {
            assert!(ctx.shared.st2_version.get().is_none());
            let first = of_release(ctx);
            assert_eq!(first, &(Version::V3_9, Source::Tag("v3.9.1".into())));
            assert!(std::ptr::eq(first, of_release(ctx)));
            assert_eq!(release(ctx), Version::V3_9);
        });
    }

    #[test]
    fn tags_name_their_version() {
        for (tag, want) in [
            ("3.8", Some((3, 8))),
            ("3.8.1", Some((3, 8))),
            ("3.9", Some((3, 9))),
            ("3.9.0", Some((3, 9))),
            ("v3.9.0", Some((3, 9))),
            ("3.9dev", Some((3, 9))),
            ("3.8.1-web.2", Some((3, 8))),
            ("3.9@sha256:0123abcd", Some((3, 9))),
            ("4.4.1-debian-10-r61", Some((4, 4))),
            ("3.10", Some((3, 10))),
            ("latest", None),
            ("sha256:0123abcd", None),
            ("3", None),
            ("3.", None),
            ("3.9x", None),
            ("", None),
            ("99999999.1", None),
        ] {
            assert_eq!(parse_tag(tag), want, "{tag}");
        }
    }
}
