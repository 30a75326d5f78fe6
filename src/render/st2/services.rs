//! Services in front of st2auth, st2api, st2stream, st2web and st2chatops.
//!
//! Each has one TCP port and selects its component's pods. A `service.hostname` becomes an
//! external-dns annotation (and the `externalName` of an ExternalName Service); user
//! annotations follow. st2web listens on 443 instead of 80 in HTTPS mode.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};

use crate::render::meta;

use crate::render::ctx::Ctx;

use crate::object::Object;
use crate::values::Value;

/// The user-facing services: (component, port, description).
const SERVICES: [(&str, i32, &str); 4] = [
    (
        "st2auth",
        9100,
        "StackStorm st2auth - all authentication is managed by this service.",
    ),
    (
        "st2api",
        9101,
        "StackStorm st2api - service hosts the REST API endpoints that serve requests from WebUI, CLI, ChatOps and other st2 services.",
    ),
    (
        "st2stream",
        9102,
        "StackStorm st2stream - exposes a server-sent event stream, used by the clients like WebUI and ChatOps to receive update from the st2stream server.",
    ),
    (
        "st2web",
        80,
        "StackStorm st2web, - an admin Web UI and main entry point for external API requests",
    ),
];

/// HTTPS mode of st2web: `st2web.env.ST2WEB_HTTPS` prints as `1` (so `1` and `"1"` alike). The
/// st2web image then serves TLS on 443 only.
pub fn st2web_https(ctx: &Ctx) -> bool {
    ctx.v("st2web.env").key("ST2WEB_HTTPS").to_go_text() == "1"
}

/// The port st2web's Service (and container) listens on.
pub fn st2web_port(ctx: &Ctx) -> i32 {
    if st2web_https(ctx) { 443 } else { 80 }
}

pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    for (component, port, description) in SERVICES {
        let port = if component == "st2web" {
            st2web_port(ctx)
        } else {
            port
        };
        out.push(exposed(ctx, component, port, description)?);
    }
    if ctx.v("st2chatops.enabled").truthy() {
        let metadata = meta::described_meta(
            ctx,
            ctx.name("st2chatops"),
            "st2chatops",
            "StackStorm st2chatops, - conversation-driven automation service exposed as hubot instance with predefined list of chat adapters",
        )?;
        out.push(Object::new(&Service {
            metadata,
            spec: Some(spec(
                ctx,
                "st2chatops",
                Some("ClusterIP".into()),
                None,
                8081,
            )),
            ..Default::default()
        })?);
    }
    Ok(out)
}

/// A Service configured by `<component>.service.{type, hostname, annotations}`.
fn exposed(ctx: &Ctx, component: &str, port: i32, description: &str) -> Result<Object> {
    let service = ctx.values.key(component).key("service");
    let hostname = service.key("hostname").non_empty().map(Value::to_go_text);
    let mut metadata = meta::described_meta(ctx, ctx.name(component), component, description)?;
    let annotations = metadata.annotations.get_or_insert_with(BTreeMap::new);
    if let Some(hostname) = &hostname {
        annotations.insert(
            "external-dns.alpha.kubernetes.io/hostname".into(),
            hostname.clone(),
        );
    }
    for (key, value) in service.key("annotations").entries() {
        annotations.insert(key.clone(), value.to_go_text());
    }
    let type_ = service.key("type").to_go_text();
    let external_name = hostname.filter(|_| type_.contains("ExternalName"));
    let mut object = Object::new(&Service {
        metadata,
        spec: Some(spec(
            ctx,
            component,
            Some(type_.clone()).filter(|t| !t.is_empty()),
            external_name,
            port,
        )),
        ..Default::default()
    })?;
    if type_.is_empty() {
        object.set_null("spec.type");
    }
    Ok(object)
}

fn spec(
    ctx: &Ctx,
    component: &str,
    type_: Option<String>,
    external_name: Option<String>,
    port: i32,
) -> ServiceSpec {
    ServiceSpec {
        selector: Some(meta::selector_labels(ctx, component)),
        type_,
        external_name,
        ports: Some(vec![ServicePort {
            protocol: Some("TCP".into()),
            port,
            ..Default::default()
        }]),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use anyhow::Result;
    use serde_json::json;

    use super::*;
    use crate::render::test_support::{body, names, with_ctx};

    #[test]
    fn default_services() -> Result<()> {
        with_ctx("{}", |ctx| {
            let objects = objects(ctx)?;
            assert_eq!(
                names(&objects, "Service"),
                ["st2-st2api", "st2-st2auth", "st2-st2stream", "st2-st2web"]
            );
            let web = body(&objects, "Service", "st2-st2web")?;
            assert_eq!(
                web["spec"],
                json!({"selector": {"app.kubernetes.io/instance": "st2", "app.kubernetes.io/name": "st2web"},
                       "type": "NodePort", "ports": [{"protocol": "TCP", "port": 80}]})
            );
            assert_eq!(
                web["metadata"]["labels"]["app.kubernetes.io/component"],
                "frontend"
            );
            Ok(())
        })
    }

    #[test]
    fn hostname_annotations_and_external_name() -> Result<()> {
        let values = "st2stream: {service: {type: ExternalName, hostname: s.example.com, annotations: {team: x}}}\n\
                      st2auth: {service: {type: NodePort, hostname: a.example.com}}\n";
        with_ctx(values, |ctx| {
            let objects = objects(ctx)?;
            let stream = body(&objects, "Service", "st2-st2stream")?;
            assert_eq!(stream["spec"]["externalName"], "s.example.com");
            assert_eq!(
                stream["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/hostname"],
                "s.example.com"
            );
            assert_eq!(stream["metadata"]["annotations"]["team"], "x");
            let auth = body(&objects, "Service", "st2-st2auth")?;
            assert!(auth["spec"].get("externalName").is_none());
            assert_eq!(
                auth["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/hostname"],
                "a.example.com"
            );
            Ok(())
        })
    }

    #[test]
    fn https_mode_and_chatops() -> Result<()> {
        with_ctx(
            "st2web: {env: {ST2WEB_HTTPS: 1}}\nst2chatops: {enabled: true}",
            |ctx| {
                let objects = objects(ctx)?;
                assert_eq!(
                    body(&objects, "Service", "st2-st2web")?["spec"]["ports"][0]["port"],
                    443
                );
                let chatops = body(&objects, "Service", "st2-st2chatops")?;
                assert_eq!(chatops["spec"]["type"], "ClusterIP");
                assert_eq!(
                    chatops["spec"]["ports"],
                    json!([{"protocol": "TCP", "port": 8081}])
                );
                Ok(())
            },
        )
    }
}
