//! The Redis Services: `<fullname>-headless` (stable pod DNS names, published before pods are
//! ready so that starting nodes find each other), `<fullname>` (clients and sentinels) and
//! `<fullname>-metrics` (iff `metrics.enabled`).

use anyhow::Result;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Redis;
use crate::object::Object;
use crate::render::kit::string_map;
use crate::values::Value;

/// The Services; `exporter` adds the exporter's.
pub(super) fn objects(redis: &Redis, exporter: bool) -> Result<Vec<Object>> {
    let mut out = vec![headless(redis)?, client(redis)?];
    if exporter {
        out.push(metrics(redis)?);
    }
    Ok(out)
}

/// A port named like its container port, which it targets.
fn port(name: &str, port: i32, node_port: Option<i32>) -> ServicePort {
    ServicePort {
        name: Some(name.to_string()),
        port,
        target_port: Some(IntOrString::String(name.to_string())),
        node_port,
        ..Default::default()
    }
}

fn headless(redis: &Redis) -> Result<Object> {
    let v = &redis.v;
    Object::new(&Service {
        metadata: redis.meta(redis.name("-headless")),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some("None".into()),
            publish_not_ready_addresses: Some(true),
            ports: Some(vec![
                port("redis", v.int("redisPort")?, None),
                port("redis-sentinel", v.int("sentinel.port")?, None),
            ]),
            selector: Some(redis.labels()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// `type`, and for LoadBalancers `externalTrafficPolicy` and `loadBalancerIP`, from a
/// `<…>.service` block.
fn typed_spec(redis: &Redis, service: &str) -> ServiceSpec {
    let v = &redis.v;
    let type_ = v.string(&format!("{service}.type"));
    let load_balancer = type_ == "LoadBalancer";
    if !load_balancer {
        // A LoadBalancer's settings: other types ignore them.
        for key in ["externalTrafficPolicy", "loadBalancerIP"] {
            v.at(&format!("{service}.{key}")).pass_over();
        }
    }
    ServiceSpec {
        external_traffic_policy: load_balancer
            .then(|| v.string(&format!("{service}.externalTrafficPolicy"))),
        load_balancer_ip: v
            .at(&format!("{service}.loadBalancerIP"))
            .non_empty()
            .filter(|_| load_balancer)
            .map(Value::to_go_string),
        type_: Some(type_),
        selector: Some(redis.labels()),
        ..Default::default()
    }
}

fn client(redis: &Redis) -> Result<Object> {
    let v = &redis.v;
    let mut metadata = redis.meta(redis.fullname.clone());
    if let Some(labels) = metadata.labels.as_mut() {
        labels.extend(string_map(v.at("sentinel.service.labels").value()));
    }
    metadata.annotations = v
        .at("sentinel.service.annotations")
        .non_empty()
        .map(string_map);
    let node_port = |key: &str| -> Result<Option<i32>> {
        let path = format!("sentinel.service.{key}");
        if v.at(&path).truthy() {
            v.int(&path).map(Some)
        } else {
            Ok(None)
        }
    };
    Object::new(&Service {
        metadata,
        spec: Some(ServiceSpec {
            ports: Some(vec![
                port(
                    "redis",
                    v.int("sentinel.service.redisPort")?,
                    node_port("redisNodePort")?,
                ),
                port(
                    "redis-sentinel",
                    v.int("sentinel.service.sentinelPort")?,
                    node_port("sentinelNodePort")?,
                ),
            ]),
            ..typed_spec(redis, "sentinel.service")
        }),
        ..Default::default()
    })
}

fn metrics(redis: &Redis) -> Result<Object> {
    let v = &redis.v;
    let mut metadata = redis.meta(redis.name("-metrics"));
    if let Some(labels) = metadata.labels.as_mut() {
        labels.insert("app.kubernetes.io/component".into(), "metrics".into());
        labels.extend(string_map(v.at("metrics.service.labels").value()));
    }
    metadata.annotations = v
        .at("metrics.service.annotations")
        .non_empty()
        .map(string_map);
    Object::new(&Service {
        metadata,
        spec: Some(ServiceSpec {
            ports: Some(vec![port("metrics", 9121, None)]),
            ..typed_spec(redis, "metrics.service")
        }),
        ..Default::default()
    })
}
