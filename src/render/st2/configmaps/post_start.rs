//! `<release>-<component>-post-start-script` ConfigMaps, key `post-start.sh`.
//!
//! st2actionrunner and st2client always get one: their script first installs the SSH key from
//! the Secret volume with the system user's ownership, which Secret volumes cannot set. Others
//! get one iff their `postStartScript` is set (st2chatops even when chatops is disabled, as the
//! chart does).

use std::collections::BTreeMap;

use anyhow::Result;

use super::config_map;
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::pod::ssh_key::{self, SshKeyPaths};
use crate::render::st2::text;

/// Components whose script installs the SSH key.
fn installs_ssh_key(component: &str) -> bool {
    matches!(component, "st2actionrunner" | "st2client")
}

pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    let ssh = ssh_key::paths(ctx)?;
    let user = ctx.v("st2.system_user.user").to_go_text();
    let mut out = Vec::new();
    for component in crate::components::ALL {
        let custom = ctx.values.key(component).key("postStartScript");
        if !custom.truthy() && !installs_ssh_key(component) {
            continue;
        }
        let key_install = installs_ssh_key(component).then_some((&ssh, user.as_str()));
        let data = BTreeMap::from([(
            "post-start.sh".to_string(),
            script(key_install, &custom.to_go_text()),
        )]);
        out.push(config_map(
            ctx,
            ctx.name(&format!("{component}-post-start-script")),
            "st2",
            Some(&format!(
                "Custom postStart lifecycle event handler script for {component}"
            )),
            data,
        )?);
    }
    Ok(out)
}

/// The script: a bash shebang, the SSH key installation when asked for, then the user's script
/// verbatim (not `tpl`'d); ends with exactly one newline.
fn script(key_install: Option<(&SshKeyPaths, &str)>, custom: &str) -> String {
    let mut out = String::from("#!/bin/bash\n");
    if let Some((p, user)) = key_install {
        out.push_str(&format!(
            "mkdir -p {dir}\ncp -L {parent}/.ssh-key-vol/{base} {file}\nchown -R {user}:{user} {dir}\nchmod 400 {file}\nchmod 500 {dir}\n",
            dir = p.dir,
            parent = p.parent,
            base = p.base,
            file = p.file,
        ));
    }
    out.push_str(custom);
    text::block_text(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_installs_key_then_runs_custom_text() {
        let paths = SshKeyPaths {
            file: "/home/bot/.ssh/id".into(),
            dir: "/home/bot/.ssh".into(),
            parent: "/home/bot".into(),
            base: "id".into(),
        };
        assert_eq!(
            script(Some((&paths, "bot")), "echo hi\n\n"),
            "#!/bin/bash\nmkdir -p /home/bot/.ssh\ncp -L /home/bot/.ssh-key-vol/id /home/bot/.ssh/id\n\
             chown -R bot:bot /home/bot/.ssh\nchmod 400 /home/bot/.ssh/id\nchmod 500 /home/bot/.ssh\necho hi\n"
        );
        assert_eq!(script(None, "echo up"), "#!/bin/bash\necho up\n");
        assert_eq!(script(None, ""), "#!/bin/bash\n");
    }
}
