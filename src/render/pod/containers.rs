//! Container fragments shared by Deployments and Jobs: the st2 command line, env/envFrom,
//! lifecycle hooks, the `wait-for-*` init containers and `generate-st2client-config`.

use anyhow::Result;
use k8s_openapi::api::core::v1::{
    ConfigMapEnvSource, Container, EnvFromSource, EnvVar, ExecAction, Lifecycle, LifecycleHandler,
    SecretEnvSource, SecurityContext,
};

use super::convert::{Setting, first_set, setting};
use super::volumes::{self, CLIENT_CONFIG_DIR, CLIENT_CONFIG_VOL};
use crate::render::ctx::Ctx;
use crate::render::images;
use crate::render::kit::mount;
use crate::values::Value;

/// The container security context: the first set block of `chain`, the top-level
/// `securityContext` last. A set block replaces the later ones whole; nothing is merged.
pub fn security_context<'v>(
    ctx: &Ctx<'v>,
    mut chain: Vec<Setting<'v>>,
) -> Result<Option<SecurityContext>> {
    chain.push((ctx.v("securityContext").value(), "securityContext".into()));
    first_set(ctx, &chain)
}

/// The top-level container `securityContext` (iff set).
pub fn global_security_context(ctx: &Ctx) -> Result<Option<SecurityContext>> {
    security_context(ctx, Vec::new())
}

/// `<key>.securityContext`, else the top-level one: the main container of component `key`, and
/// the init containers that run the component's own image (st2auth's `generate-htpasswd`). The
/// `wait-for-*` containers keep the top-level one in every pod, as the chart does for the
/// components it reads this key for.
pub fn component_security_context(ctx: &Ctx, key: &str) -> Result<Option<SecurityContext>> {
    security_context(ctx, vec![setting(&ctx.v(key).key("securityContext"))])
}

/// `st2actionrunner.securityContext`, else the top-level one: containers that run actionrunner
/// code (pack copies, content registration), since the runner is the most permissive component.
pub fn runner_security_context(ctx: &Ctx) -> Result<Option<SecurityContext>> {
    component_security_context(ctx, "st2actionrunner")
}

/// `image.entrypoint`, prepended to the st2 services' commands.
pub fn entrypoint(ctx: &Ctx) -> Vec<String> {
    ctx.v("image.entrypoint")
        .as_list()
        .iter()
        .map(Value::to_go_string)
        .collect()
}

/// `image.entrypoint`, `/opt/stackstorm/st2/bin/<binary>`, then the `--config-file` arguments:
/// how every st2 python service starts.
pub fn st2_command(ctx: &Ctx, binary: &str) -> Vec<String> {
    let mut command = entrypoint(ctx);
    command.push(format!("/opt/stackstorm/st2/bin/{binary}"));
    command.extend(volumes::config_args(ctx));
    command
}

/// A component's `env`: one variable per key (sorted, as Go iterates maps), values printed as Go's
/// `%v` and quoted; `None` when `env` is empty (the chart then omits the key).
pub fn env(env: &Value) -> Option<Vec<EnvVar>> {
    env.non_empty().map(|_| env_vars(env))
}

/// The variables of [`env`], also when empty (st2client always has its own variable first).
pub fn env_vars(env: &Value) -> Vec<EnvVar> {
    env.entries()
        .map(|(name, value)| EnvVar {
            name: name.clone(),
            // `quote nil` prints nothing; the variable is then empty.
            value: (!value.is_null()).then(|| value.to_go_string()),
            ..Default::default()
        })
        .collect()
}

/// The st2 service URLs ConfigMap (`<release>-st2-urls`) as environment.
pub fn urls(ctx: &Ctx) -> EnvFromSource {
    EnvFromSource {
        config_map_ref: Some(ConfigMapEnvSource {
            name: ctx.name("st2-urls"),
            optional: None,
        }),
        ..Default::default()
    }
}

/// All keys of Secret `name` as environment.
pub fn secret_ref(name: String) -> EnvFromSource {
    EnvFromSource {
        secret_ref: Some(SecretEnvSource {
            name,
            optional: None,
        }),
        ..Default::default()
    }
}

/// One [`secret_ref`] per name in an `envFromSecrets` list.
pub fn secret_refs(list: &Value) -> Vec<EnvFromSource> {
    list.as_list()
        .iter()
        .map(|s| secret_ref(s.to_go_string()))
        .collect()
}

/// The service URLs, then each of `envFromSecrets`: what the st2 services read their
/// environment from.
pub fn urls_and_secrets(ctx: &Ctx, secrets: &Value) -> Vec<EnvFromSource> {
    let mut sources = vec![urls(ctx)];
    sources.extend(secret_refs(secrets));
    sources
}

/// An `exec` lifecycle handler.
fn exec(command: &[&str]) -> LifecycleHandler {
    LifecycleHandler {
        exec: Some(ExecAction {
            command: Some(command.iter().map(|s| s.to_string()).collect()),
        }),
        ..Default::default()
    }
}

/// Run the mounted post-start script; with `pre_stop` (`preStopSleep` as printed by `toString`)
/// also sleep before stopping, unless it is `"0"`, so that kube-proxy stops routing to the pod
/// before it goes away (the chart adds the sleep only to pods with a post-start script).
pub fn post_start_lifecycle(pre_stop: Option<&Value>) -> Lifecycle {
    let sleep = pre_stop.map(Value::to_go_string).filter(|s| s != "0");
    Lifecycle {
        post_start: Some(exec(&["/bin/bash", "/post-start.sh"])),
        pre_stop: sleep.map(|s| exec(&["sleep", &s])),
        ..Default::default()
    }
}

/// A `wait-for-*` init container: polls `host:port` with the utility image until it answers.
fn wait_for(
    ctx: &Ctx,
    name: &str,
    host: &str,
    port: String,
    what: &str,
    waiting: &str,
) -> Result<Container> {
    let script = format!(
        "until nc -z -w 2 {host} {port} && echo {what} ok;\n  do\n    echo 'Waiting for {waiting} Connection...'\n    sleep 2;\ndone\n"
    );
    Ok(Container {
        name: name.into(),
        image: Some(images::utility(ctx)),
        image_pull_policy: images::pull_policy(ctx),
        command: Some(vec!["sh".into(), "-c".into(), script]),
        security_context: global_security_context(ctx)?,
        ..Default::default()
    })
}

/// A port from the values (`mongodb.service.port`), printed as the chart's `int` does.
fn port(ctx: &Ctx, path: &str) -> String {
    match ctx.v(path).value() {
        Value::Float(f) => (f.trunc() as i64).to_string(),
        other => other.to_go_string(),
    }
}

/// `wait-for-db` (iff the bundled MongoDB is enabled).
///
/// The chart always waits on `<release>-mongodb-headless`, which only exists in replica-set
/// mode; for other architectures st2k8s waits on the `<release>-mongodb` Service instead.
pub fn wait_for_db(ctx: &Ctx) -> Result<Vec<Container>> {
    if !ctx.v("mongodb.enabled").truthy() {
        return Ok(Vec::new());
    }
    let host = if ctx.v("mongodb.architecture").to_go_string() == "replicaset" {
        ctx.name("mongodb-headless")
    } else {
        ctx.name("mongodb")
    };
    Ok(vec![wait_for(
        ctx,
        "wait-for-db",
        &host,
        port(ctx, "mongodb.service.port"),
        "mongodb",
        "MongoDB",
    )?])
}

/// `wait-for-queue` (iff the bundled RabbitMQ is enabled).
pub fn wait_for_queue(ctx: &Ctx) -> Result<Vec<Container>> {
    if !ctx.v("rabbitmq.enabled").truthy() {
        return Ok(Vec::new());
    }
    let host = ctx.name("rabbitmq");
    Ok(vec![wait_for(
        ctx,
        "wait-for-queue",
        &host,
        port(ctx, "rabbitmq.service.port"),
        "rabbitmq",
        "RabbitMQ",
    )?])
}

/// `wait-for-db` then `wait-for-queue`: the init containers every st2 service starts with.
pub fn wait_for_backends(ctx: &Ctx) -> Result<Vec<Container>> {
    let mut containers = wait_for_db(ctx)?;
    containers.extend(wait_for_queue(ctx)?);
    Ok(containers)
}

/// How a `generate-st2client-config` init container is set up by its pod.
pub struct ClientConfigInit<'a> {
    /// The st2actionrunner image the pod uses.
    pub image: String,
    pub security_context: Option<SecurityContext>,
    /// Values path of the (tpl'd) client config: `st2client.st2clientConfig` or `jobs.st2clientConfig`.
    pub config_path: &'a str,
    /// The pod's `envFromSecrets` list.
    pub env_from_secrets: &'a Value,
}

/// `generate-st2client-config`: writes the st2 CLI config into the shared in-memory volume; the
/// unquoted heredoc lets the shell fill in `${ST2_AUTH_*}` from the auth Secret at run time.
pub fn client_config_init(ctx: &Ctx, init: ClientConfigInit) -> Result<Container> {
    let config = ctx.tpl_value(init.config_path)?;
    let mut env_from = vec![urls(ctx), secret_ref(volumes::auth_secret(ctx))];
    env_from.extend(secret_refs(init.env_from_secrets));
    Ok(Container {
        name: "generate-st2client-config".into(),
        image: Some(init.image),
        image_pull_policy: images::pull_policy(ctx),
        security_context: init.security_context,
        env_from: Some(env_from),
        volume_mounts: Some(vec![mount(CLIENT_CONFIG_VOL, CLIENT_CONFIG_DIR)]),
        command: Some(vec![
            "sh".into(),
            "-ec".into(),
            format!("cat <<EOT > /root/.st2/config\n{config}\nEOT\n"),
        ]),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_prints_values_like_go_and_sorts_keys() {
        let values = Value::Map(
            [
                ("B".to_string(), Value::Int(20)),
                ("A".to_string(), Value::Bool(true)),
                ("C".to_string(), Value::Float(1.5)),
                ("D".to_string(), Value::Null),
            ]
            .into_iter()
            .collect(),
        );
        let vars: Vec<(String, Option<String>)> = env_vars(&values)
            .into_iter()
            .map(|v| (v.name, v.value))
            .collect();
        assert_eq!(
            vars,
            vec![
                ("A".into(), Some("true".into())),
                ("B".into(), Some("20".into())),
                ("C".into(), Some("1.5".into())),
                ("D".into(), None),
            ]
        );
        assert!(env(&Value::Map(Default::default())).is_none());
    }

    #[test]
    fn pre_stop_follows_to_string_and_skips_zero() {
        let sleep = |v: &Value| {
            post_start_lifecycle(Some(v))
                .pre_stop
                .and_then(|h| h.exec)
                .and_then(|e| e.command)
        };
        assert_eq!(
            sleep(&Value::String("30".into())),
            Some(vec!["sleep".into(), "30".into()])
        );
        assert_eq!(
            sleep(&Value::Int(15)),
            Some(vec!["sleep".into(), "15".into()])
        );
        assert_eq!(
            sleep(&Value::Null),
            Some(vec!["sleep".into(), "<nil>".into()])
        );
        assert_eq!(sleep(&Value::String("0".into())), None);
        assert_eq!(sleep(&Value::Int(0)), None);
        assert!(post_start_lifecycle(None).pre_stop.is_none());
    }
}
