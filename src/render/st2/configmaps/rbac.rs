//! RBAC ConfigMaps `<release>-st2-rbac-{roles,assignments,mappings}`, iff `st2.rbac.enabled`.
//!
//! Role and assignment files set to `""` (or null) are left out, which is how users remove the
//! default files; mappings are shipped as given.

use std::collections::BTreeMap;

use anyhow::Result;

use super::config_map;
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::st2::text;

pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    if !ctx.v("st2.rbac.enabled").truthy() {
        return Ok(Vec::new());
    }
    Ok(vec![
        config_map(
            ctx,
            ctx.name("st2-rbac-roles"),
            "st2",
            Some("Custom StackStorm RBAC roles, shipped in '/opt/stackstorm/rbac/roles/'"),
            non_empty_files(ctx, "st2.rbac.roles")?,
        )?,
        config_map(
            ctx,
            ctx.name("st2-rbac-assignments"),
            "st2",
            Some(
                "Custom StackStorm RBAC role assignments, shipped in '/opt/stackstorm/rbac/assignments/'",
            ),
            non_empty_files(ctx, "st2.rbac.assignments")?,
        )?,
        config_map(
            ctx,
            ctx.name("st2-rbac-mappings"),
            "st2",
            Some(
                "StackStorm RBAC LDAP groups-to-roles mapping rules, shipped in '/opt/stackstorm/rbac/mappings/'",
            ),
            super::files(ctx, "st2.rbac.mappings")?,
        )?,
    ])
}

/// The files at `path` whose contents are non-empty, each ending with one newline.
fn non_empty_files(ctx: &Ctx, path: &str) -> Result<BTreeMap<String, String>> {
    ctx.v(path)
        .entries()
        .filter(|(_, contents)| contents.truthy())
        .map(|(name, contents)| {
            let contents = text::file_contents(contents, &format!("{path}.{name}"))?;
            Ok((name.clone(), text::block_text(&contents)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use anyhow::Result;
    use serde_json::json;

    use super::*;
    use crate::render::test_support::{body, with_ctx};

    #[test]
    fn rbac_files_skip_empty_entries() -> Result<()> {
        let values = "st2:\n  rbac:\n    enabled: true\n    roles: {sample.yaml: '', ops.yaml: \"name: ops\\n\\n\"}\n\
                      \x20   assignments: {stanley.yaml: null, alice.yaml: 'username: alice'}\n";
        with_ctx(values, |ctx| {
            let objects = objects(ctx)?;
            assert_eq!(
                body(&objects, "ConfigMap", "st2-st2-rbac-roles")?["data"],
                json!({"ops.yaml": "name: ops\n"})
            );
            assert_eq!(
                body(&objects, "ConfigMap", "st2-st2-rbac-assignments")?["data"],
                json!({"alice.yaml": "username: alice\n", "st2admin.yaml": "---\nusername: st2admin\nroles:\n  - system_admin\n"})
            );
            assert_eq!(
                body(&objects, "ConfigMap", "st2-st2-rbac-mappings")?["data"],
                json!({})
            );
            Ok(())
        })
    }

    #[test]
    fn rbac_off_renders_nothing() -> Result<()> {
        with_ctx("{}", |ctx| {
            assert!(objects(ctx)?.is_empty());
            Ok(())
        })
    }
}
