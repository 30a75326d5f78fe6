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

/// Values sections whose image falls back to another section's tag before `image.tag`: the
/// st2client config init container and the setup Jobs run the st2actionrunner image, so they
/// follow its tag unless they set their own. The builders and the StackStorm version check
/// both read the chains from here ([`tag_chain`]).
const TAG_FALLBACKS: [(&str, &str); 2] = [
    ("st2client", "st2actionrunner"),
    ("jobs", "st2actionrunner"),
];

/// The tag keys tried, in order, for the image of values section `section` before
/// `image.tag`: its own `<section>.image.tag`, then that of the section it falls back to.
pub fn tag_chain(section: &str) -> Vec<String> {
    let mut chain = vec![format!("{section}.image.tag")];
    if let Some((_, to)) = TAG_FALLBACKS.iter().find(|(from, _)| *from == section) {
        chain.push(format!("{to}.image.tag"));
    }
    chain
}

/// [`st2`] with the tags of values section `section` ([`tag_chain`]).
pub fn st2_of(ctx: &Ctx, name: &str, section: &str) -> Result<String> {
    let chain = tag_chain(section);
    let paths: Vec<&str> = chain.iter().map(String::as_str).collect();
    st2(ctx, name, &paths)
}

/// `<repository>/<name>:<tag>` for an st2 image, tags tried in order.
pub fn st2(ctx: &Ctx, name: &str, tag_paths: &[&str]) -> Result<String> {
    Ok(format!(
        "{}/{name}:{}",
        repository(ctx),
        tag(ctx, tag_paths)?
    ))
}

#[cfg(test)]
mod tests {
    use super::tag_chain;

    #[test]
    fn client_and_jobs_fall_back_to_the_actionrunner_tag() {
        assert_eq!(tag_chain("st2api"), ["st2api.image.tag"]);
        assert_eq!(
            tag_chain("st2client"),
            ["st2client.image.tag", "st2actionrunner.image.tag"]
        );
        assert_eq!(
            tag_chain("jobs"),
            ["jobs.image.tag", "st2actionrunner.image.tag"]
        );
    }
}
