//! Image references and pull policy for st2 containers.

use anyhow::Result;

use super::ctx::Ctx;
use crate::values::Value;

/// Registry/namespace prefix of st2 images: `image.repository`, else `stackstorm`.
pub fn repository(ctx: &Ctx) -> String {
    ctx.v("image.repository")
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or("stackstorm")
        .to_string()
}

/// The utility image used by `wait-for-*` and sensor init containers.
pub fn utility(ctx: &Ctx) -> String {
    ctx.v("image.utilityImage")
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or("docker.io/library/busybox:1.28")
        .to_string()
}

/// The global pull policy, `image.pullPolicy`.
pub fn pull_policy(ctx: &Ctx) -> Option<String> {
    ctx.v("image.pullPolicy")
        .non_empty()
        .map(Value::to_go_string)
}

/// The first truthy tag among `paths` (values paths of tags), else `image.tag`, evaluated with `tpl`.
pub fn tag(ctx: &Ctx, paths: &[&str]) -> Result<String> {
    for path in paths {
        if ctx.v(path).truthy() {
            return ctx.tpl_value(path);
        }
    }
    ctx.tpl_value("image.tag")
}

/// `<repository>/<name>:<tag>` for an st2 image, tags tried in order.
pub fn st2(ctx: &Ctx, name: &str, tag_paths: &[&str]) -> Result<String> {
    Ok(format!(
        "{}/{name}:{}",
        repository(ctx),
        tag(ctx, tag_paths)?
    ))
}
