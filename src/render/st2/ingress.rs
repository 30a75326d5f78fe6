//! The Ingress `<release>-st2web-ingress`, iff `ingress.enabled`.
//!
//! Explicit `ingress.hosts` route to the Services they name; without hosts, one rule sends
//! `st2web.service.hostname` to st2web. Unlike the chart, that default backend follows st2web's
//! HTTPS mode (port 443), since the Service then has no port 80.
//!
//! Each path's `pathType` is `Prefix`, as the chart hard-codes it, unless the path sets its own
//! (an st2k8s extension): regex paths with ingress-nginx need `ImplementationSpecific`.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

use super::services;
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::meta;
use crate::values::Value;

pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    if !ctx.v("ingress.enabled").truthy() {
        return Ok(Vec::new());
    }
    let tls = ctx.v("ingress.tls");
    let mut annotations = BTreeMap::new();
    if tls.truthy() {
        annotations.insert(
            "ingress.kubernetes.io/secure-backends".to_string(),
            "true".to_string(),
        );
    }
    for (key, value) in ctx.v("ingress.annotations").entries() {
        annotations.insert(key.clone(), value.to_go_text());
    }
    let mut metadata = meta::object_meta(ctx, ctx.name("st2web-ingress"), "ingress")?;
    let no_annotations = annotations.is_empty();
    metadata.annotations = Some(annotations);
    let hosts = ctx.v("ingress.hosts").as_list();
    let rules = if hosts.is_empty() {
        vec![default_rule(ctx)?]
    } else {
        hosts
            .iter()
            .enumerate()
            .map(|(i, host)| host_rule(host, i))
            .collect::<Result<_>>()?
    };
    let tls: Option<Vec<IngressTLS>> = match tls.non_empty() {
        Some(tls) => Some(crate::render::pod::convert::typed(ctx, tls, "ingress.tls")?),
        None => None,
    };
    let mut object = Object::new(&Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: ctx
                .v("ingress.ingressClassName")
                .non_empty()
                .map(Value::to_go_text),
            rules: Some(rules),
            tls,
            ..Default::default()
        }),
        ..Default::default()
    })?;
    // The chart prints `annotations:` with nothing under it when there are none.
    if no_annotations {
        object.set_null("metadata.annotations");
    }
    Ok(vec![object])
}

/// `st2web.service.hostname` → the st2web Service.
fn default_rule(ctx: &Ctx) -> Result<IngressRule> {
    let Some(hostname) = ctx.v("st2web.service.hostname").non_empty() else {
        bail!("Missing context '.Values.st2web.service.hostname'!");
    };
    let port = ServiceBackendPort {
        number: Some(services::st2web_port(ctx)),
        ..Default::default()
    };
    Ok(rule(
        Some(hostname.to_go_text()),
        vec![path("/".into(), ctx.name("st2web"), port)],
    ))
}

/// One `ingress.hosts[i]` entry: each path routes to `serviceName:servicePort` (path default `/*`).
fn host_rule(host: &Value, i: usize) -> Result<IngressRule> {
    let paths = host
        .key("paths")
        .as_list()
        .iter()
        .enumerate()
        .map(|(j, p)| {
            let path_text = p
                .key("path")
                .non_empty()
                .map_or_else(|| "/*".to_string(), Value::to_go_text);
            let port = backend_port(p.key("servicePort"))
                .with_context(|| format!("`ingress.hosts[{i}].paths[{j}].servicePort`"))?;
            let path_type = path_type(p.key("pathType"), i, j)?;
            let mut path = path(path_text, p.key("serviceName").to_go_text(), port);
            path.path_type = path_type.into();
            Ok(path)
        })
        .collect::<Result<_>>()?;
    Ok(rule(
        host.key("host").non_empty().map(Value::to_go_text),
        paths,
    ))
}

/// The path types Kubernetes knows; the first is the chart's.
const PATH_TYPES: [&str; 3] = ["Prefix", "Exact", "ImplementationSpecific"];

/// `ingress.hosts[i].paths[j].pathType`: one of [`PATH_TYPES`], `Prefix` when unset.
fn path_type(value: &Value, i: usize, j: usize) -> Result<&'static str> {
    let Some(set) = value.non_empty() else {
        return Ok(PATH_TYPES[0]);
    };
    let text = set.to_go_text();
    match PATH_TYPES.iter().find(|t| **t == text) {
        Some(t) => Ok(t),
        None => bail!(
            "`ingress.hosts[{i}].paths[{j}].pathType`: expected Exact, Prefix or ImplementationSpecific"
        ),
    }
}

/// A port number, or a named port for a non-numeric string.
fn backend_port(port: &Value) -> Result<ServiceBackendPort> {
    let text = port.to_go_text();
    Ok(match text.parse::<i32>() {
        Ok(number) => ServiceBackendPort {
            number: Some(number),
            ..Default::default()
        },
        Err(_) if !text.is_empty() => ServiceBackendPort {
            name: Some(text),
            ..Default::default()
        },
        Err(_) => bail!("a service port is required"),
    })
}

fn rule(host: Option<String>, paths: Vec<HTTPIngressPath>) -> IngressRule {
    IngressRule {
        host,
        http: Some(HTTPIngressRuleValue { paths }),
    }
}

fn path(path: String, service: String, port: ServiceBackendPort) -> HTTPIngressPath {
    HTTPIngressPath {
        path: Some(path),
        path_type: "Prefix".into(),
        backend: IngressBackend {
            service: Some(IngressServiceBackend {
                name: service,
                port: Some(port),
            }),
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use anyhow::Result;
    use serde_json::{Value as Json, json};

    use super::*;
    use crate::render::test_support::{body, with_ctx};

    fn ingress(values: &str) -> Result<serde_json::Value> {
        with_ctx(values, |ctx| {
            Ok(body(&objects(ctx)?, "Ingress", "st2-st2web-ingress")?.into_owned())
        })
    }

    #[test]
    fn default_rule_targets_st2web() -> Result<()> {
        let ing =
            ingress("ingress: {enabled: true}\nst2web: {service: {hostname: st2.example.com}}")?;
        assert_eq!(ing["metadata"]["annotations"], json!(null));
        assert_eq!(
            ing["spec"]["rules"],
            json!([{"host": "st2.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "st2-st2web", "port": {"number": 80}}}}]}}])
        );
        let https = ingress(
            "ingress: {enabled: true}\nst2web: {service: {hostname: h}, env: {ST2WEB_HTTPS: '1'}}",
        )?;
        assert_eq!(
            https["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"],
            json!({"number": 443})
        );
        Ok(())
    }

    #[test]
    fn explicit_hosts_and_tls() -> Result<()> {
        let values = "ingress:\n  enabled: true\n  ingressClassName: nginx\n  annotations: {a: b}\n  hosts:\n\
                      \x20   - host: x.example.com\n      paths:\n        - {serviceName: api, servicePort: 9101}\n\
                      \x20       - {path: /web, serviceName: web, servicePort: http}\n  tls: [{secretName: t, hosts: [x.example.com]}]\n";
        let ing = ingress(values)?;
        assert_eq!(
            ing["metadata"]["annotations"],
            json!({"a": "b", "ingress.kubernetes.io/secure-backends": "true"})
        );
        assert_eq!(ing["spec"]["ingressClassName"], "nginx");
        let paths = &ing["spec"]["rules"][0]["http"]["paths"];
        assert_eq!(paths[0]["path"], "/*");
        assert_eq!(
            paths[0]["backend"]["service"],
            json!({"name": "api", "port": {"number": 9101}})
        );
        assert_eq!(
            paths[1]["backend"]["service"],
            json!({"name": "web", "port": {"name": "http"}})
        );
        assert_eq!(
            ing["spec"]["tls"],
            json!([{"hosts": ["x.example.com"], "secretName": "t"}])
        );
        Ok(())
    }

    #[test]
    fn paths_take_their_own_path_type() -> Result<()> {
        let values = "ingress:\n  enabled: true\n  hosts:\n    - host: x\n      paths:\n\
                      \x20       - {path: '/api(/|$)(.*)', pathType: ImplementationSpecific, serviceName: api, servicePort: 9101}\n\
                      \x20       - {path: /exact, pathType: Exact, serviceName: web, servicePort: 80}\n\
                      \x20       - {path: /, pathType: '', serviceName: web, servicePort: 80}\n";
        let ing = ingress(values)?;
        let types: Vec<&Json> = ing["spec"]["rules"][0]["http"]["paths"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| &p["pathType"])
            .collect();
        assert_eq!(
            types,
            [
                &json!("ImplementationSpecific"),
                &json!("Exact"),
                &json!("Prefix")
            ]
        );
        Ok(())
    }

    #[test]
    fn unknown_path_types_are_refused_naming_the_path() {
        let values = "ingress:\n  enabled: true\n  hosts:\n    - host: x\n      paths: [{serviceName: a, servicePort: 1}]\n\
                      \x20   - host: y\n      paths:\n        - {serviceName: a, servicePort: 1}\n        - {pathType: prefix, serviceName: a, servicePort: 1}\n";
        let err = ingress(values).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "`ingress.hosts[1].paths[1].pathType`: expected Exact, Prefix or ImplementationSpecific"
            )
        );
    }

    #[test]
    fn missing_hostname_fails_and_disabled_renders_nothing() -> Result<()> {
        let err = ingress("ingress: {enabled: true}")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("Missing context '.Values.st2web.service.hostname'!")
        );
        with_ctx("{}", |ctx| {
            assert!(objects(ctx)?.is_empty());
            Ok(())
        })
    }
}
