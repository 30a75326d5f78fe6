//! Built-in equivalent of the bitnami external-dns 4.0.0 subchart as stackstorm-ha renders it:
//! ServiceAccount, RBAC, Service, Deployment, and per DNS provider the credentials Secret; it
//! publishes the `external-dns.alpha.kubernetes.io/hostname` annotations the parent puts on
//! Services.
//!
//! RBAC objects are `rbac.authorization.k8s.io/v1` whatever `rbac.apiVersion` says (the chart's
//! default `v1beta1` is gone since Kubernetes 1.22). Not rendered: the `apiextensions/v1beta1`
//! CRD (`crd.create`) and the PodSecurityPolicy objects (`rbac.pspEnabled`).

mod deployment;
mod secret;

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::{Service, ServiceAccount, ServicePort, ServiceSpec};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

use super::{SubValues, custom_object};
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::kit::string_map;
use crate::render::meta;
use crate::values::Value;

/// The subchart's name.
const CHART_NAME: &str = "external-dns";

/// All external-dns objects (called when `external-dns.enabled`).
pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    let dns = ExternalDns::new(ctx);
    validate(&dns)?;
    let v = &dns.v;
    let mut out = Vec::new();
    if v.at("serviceAccount.create").truthy() {
        let mut metadata = dns.meta(dns.service_account());
        metadata.annotations = v
            .at("serviceAccount.annotations")
            .non_empty()
            .map(string_map);
        out.push(Object::new(&ServiceAccount {
            metadata,
            ..Default::default()
        })?);
    }
    if v.at("rbac.create").truthy() {
        out.extend(rbac(&dns)?);
    }
    out.extend(secret::objects(&dns)?);
    out.push(service(&dns)?);
    out.push(deployment::object(&dns)?);
    if v.at("metrics.enabled").truthy() && v.at("metrics.serviceMonitor.enabled").truthy() {
        out.push(service_monitor(&dns));
    }
    Ok(out)
}

/// The Deployment `<fullname>` as `networkPolicy.enabled` protects it: external-dns serves
/// only its health and metrics endpoint, open to every source (the kubelet and scrapers).
pub fn network_target(ctx: &Ctx) -> Result<crate::render::backends::NetworkTarget> {
    let dns = ExternalDns::new(ctx);
    Ok(crate::render::backends::NetworkTarget {
        name: dns.fullname.clone(),
        selector: dns.selector(),
        peers: dns.selector(),
        client_ports: Vec::new(),
        peer_ports: Vec::new(),
        open_ports: vec![dns.v.int("service.port")?],
    })
}

/// What every external-dns builder needs.
pub(super) struct ExternalDns<'c, 'a> {
    pub ctx: &'c Ctx<'a>,
    pub v: SubValues<'a>,
    /// The name of every object (`<release>-external-dns` by default).
    pub fullname: String,
    /// `app.kubernetes.io/name`.
    pub app: String,
    /// `provider`: which DNS service is updated.
    pub provider: String,
}

/// The per-provider settings sections (`aws-sd` uses `aws`, `azure-private-dns` uses `azure`).
const PROVIDER_SECTIONS: &[&str] = &[
    "alibabacloud",
    "aws",
    "azure",
    "cloudflare",
    "coredns",
    "designate",
    "digitalocean",
    "google",
    "infoblox",
    "ovh",
    "scaleway",
    "rfc2136",
    "pdns",
    "transip",
    "vinyldns",
];

impl<'c, 'a> ExternalDns<'c, 'a> {
    fn new(ctx: &'c Ctx<'a>) -> Self {
        let v = SubValues::new(ctx, CHART_NAME);
        // Only the selected provider's settings apply; the chart ignores the others' sections.
        let selected = v.at("provider").to_go_text();
        let section = match selected.as_str() {
            "aws-sd" => "aws",
            "azure-private-dns" => "azure",
            other => other,
        };
        for provider in PROVIDER_SECTIONS.iter().filter(|p| **p != section) {
            v.at(provider).pass_over();
        }
        Self {
            ctx,
            fullname: meta::subchart_fullname(ctx, CHART_NAME),
            app: meta::bitnami_name(CHART_NAME, &v.values),
            provider: v
                .at("provider")
                .non_empty()
                .map_or_else(String::new, Value::to_go_string),
            v,
        }
    }

    /// Is the value at `path` set (Go truthiness)?
    pub fn set(&self, path: &str) -> bool {
        self.v.at(path).truthy()
    }

    /// The selector labels: name and instance.
    pub fn selector(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), self.app.clone()),
            (
                "app.kubernetes.io/instance".to_string(),
                self.ctx.release.name.clone(),
            ),
        ])
    }

    /// The labels of every object: the selector labels, the managed-by label st2k8s uses, and
    /// `podLabels` (the chart adds those to every object, not only to pods).
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.selector();
        labels.insert(
            "app.kubernetes.io/managed-by".into(),
            meta::MANAGED_BY.into(),
        );
        labels.extend(string_map(self.v.at("podLabels").value()));
        labels
    }

    /// Metadata without a namespace, as the chart writes it.
    pub fn meta(&self, name: String) -> ObjectMeta {
        ObjectMeta {
            name: Some(name),
            labels: Some(self.labels()),
            ..Default::default()
        }
    }

    /// The ServiceAccount the pod runs as.
    pub fn service_account(&self) -> String {
        let fallback = if self.set("serviceAccount.create") {
            self.fullname.clone()
        } else {
            "default".into()
        };
        self.v
            .at("serviceAccount.name")
            .non_empty()
            .map_or(fallback, Value::to_go_string)
    }
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let strings = |items: &[&str]| Some(items.iter().map(|s| s.to_string()).collect());
    PolicyRule {
        api_groups: strings(groups),
        resources: strings(resources),
        verbs: strings(verbs).unwrap_or_default(),
        ..Default::default()
    }
}

/// What external-dns reads: Services, Ingresses, Istio/Zalando/Contour routes, and the
/// DNSEndpoint-like custom resource when one is configured. A namespaced Role has no `nodes`.
fn rules(dns: &ExternalDns, cluster: bool) -> Vec<PolicyRule> {
    let read = ["get", "list", "watch"];
    let core: &[&str] = if cluster {
        &["services", "pods", "nodes", "endpoints"]
    } else {
        &["services", "pods", "endpoints"]
    };
    let mut rules = vec![
        rule(&[""], core, &read),
        rule(&["extensions", "networking.k8s.io"], &["ingresses"], &read),
        rule(
            &["networking.istio.io"],
            &["gateways", "virtualservices"],
            &read,
        ),
        rule(&["zalando.org"], &["routegroups"], &read),
        rule(
            &["zalando.org"],
            &["routegroups/status"],
            &["patch", "update"],
        ),
        rule(
            &["projectcontour.io"],
            &["httpproxies"],
            &["get", "watch", "list"],
        ),
    ];
    if let Some(api) = dns.v.at("crd.apiversion").non_empty() {
        let api = api.to_go_string();
        let group = api.split('/').next().unwrap_or_default();
        let plural = format!("{}s", dns.v.string("crd.kind").to_lowercase());
        rules.push(rule(&[group], &[&plural], &read));
        rules.push(rule(&[group], &[&format!("{plural}/status")], &["update"]));
    }
    rules
}

fn rbac(dns: &ExternalDns) -> Result<Vec<Object>> {
    let role_ref = |kind: &str| RoleRef {
        api_group: "rbac.authorization.k8s.io".into(),
        kind: kind.into(),
        name: dns.fullname.clone(),
    };
    let subjects = Some(vec![Subject {
        kind: "ServiceAccount".into(),
        name: dns.service_account(),
        namespace: Some(dns.ctx.release.namespace.clone()),
        ..Default::default()
    }]);
    if dns.set("rbac.clusterRole") {
        return Ok(vec![
            Object::new(&ClusterRole {
                metadata: dns.meta(dns.fullname.clone()),
                rules: Some(rules(dns, true)),
                ..Default::default()
            })?,
            Object::new(&ClusterRoleBinding {
                metadata: dns.meta(dns.fullname.clone()),
                role_ref: role_ref("ClusterRole"),
                subjects,
            })?,
        ]);
    }
    // A namespaced Role lives in `namespace` (the namespace external-dns watches), else the release's.
    let namespaced = || ObjectMeta {
        namespace: dns.v.at("namespace").non_empty().map(Value::to_go_string),
        ..dns.meta(dns.fullname.clone())
    };
    Ok(vec![
        Object::new(&Role {
            metadata: namespaced(),
            rules: Some(rules(dns, false)),
        })?,
        Object::new(&RoleBinding {
            metadata: namespaced(),
            role_ref: role_ref("Role"),
            subjects,
        })?,
    ])
}

fn service(dns: &ExternalDns) -> Result<Object> {
    let v = &dns.v;
    let mut metadata = dns.meta(dns.fullname.clone());
    if let Some(labels) = metadata.labels.as_mut() {
        labels.extend(string_map(v.at("service.labels").value()));
    }
    metadata.annotations = v.at("service.annotations").non_empty().map(string_map);
    let type_ = v.string("service.type");
    let node_port = (type_ == "NodePort" && v.at("service.nodePort").truthy())
        .then(|| v.int("service.nodePort"))
        .transpose()?;
    let strings = |path: &str| -> Option<Vec<String>> {
        v.at(path)
            .non_empty()
            .map(|l| l.as_list().iter().map(Value::to_go_string).collect())
    };
    Object::new(&Service {
        metadata,
        spec: Some(ServiceSpec {
            cluster_ip: v
                .at("service.clusterIP")
                .non_empty()
                .map(Value::to_go_string),
            external_ips: strings("service.externalIPs"),
            load_balancer_ip: v
                .at("service.loadBalancerIP")
                .non_empty()
                .map(Value::to_go_string),
            load_balancer_source_ranges: strings("service.loadBalancerSourceRanges"),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: v.int("service.port")?,
                protocol: Some("TCP".into()),
                target_port: Some(IntOrString::String("http".into())),
                node_port,
                ..Default::default()
            }]),
            selector: Some(dns.selector()),
            type_: Some(type_),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The Prometheus operator's ServiceMonitor (a custom resource: built from JSON).
fn service_monitor(dns: &ExternalDns) -> Object {
    let v = &dns.v;
    let mut labels = dns.labels();
    labels.extend(string_map(v.at("metrics.serviceMonitor.selector").value()));
    let mut metadata = json!({"name": dns.fullname, "labels": labels});
    if let Some(namespace) = v.at("metrics.serviceMonitor.namespace").non_empty() {
        metadata["namespace"] = namespace.to_json();
    }
    let mut endpoint = json!({"port": "http", "path": "/metrics"});
    for key in ["interval", "scrapeTimeout"] {
        if let Some(value) = v.at(&format!("metrics.serviceMonitor.{key}")).non_empty() {
            endpoint[key] = value.to_json();
        }
    }
    custom_object(
        "monitoring.coreos.com/v1",
        "ServiceMonitor",
        dns.fullname.clone(),
        json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": metadata,
            "spec": {
                "endpoints": [endpoint],
                "namespaceSelector": {"matchNames": [dns.ctx.release.namespace]},
                "selector": {"matchLabels": dns.selector()},
            },
        }),
    )
}

/// The subchart's `validateValues` checks (its NOTES.txt fails the render with them), one
/// `(key, problem)` per failed check.
fn validate(dns: &ExternalDns) -> Result<()> {
    let p = dns.provider.as_str();
    let set = |path: &str| dns.set(path);
    let azure = p == "azure" && !set("azure.secretName");
    let private = p == "azure-private-dns";
    let msi = set("azure.useManagedIdentityExtension");
    let checks: [(bool, &str, &str); 32] = [
        (
            p.is_empty(),
            "provider",
            "you must set a provider (aws, google, azure, cloudflare, ...)",
        ),
        (
            !set("sources"),
            "sources",
            "you must list the sources to watch for new DNS entries",
        ),
        (
            p == "aws"
                && set("aws.assumeRoleArn")
                && !is_role_arn(&dns.v.string("aws.assumeRoleArn")),
            "aws.assumeRoleArn",
            "the AWS role to assume must be an ARN like `arn:aws:iam::123455567:role/external-dns`",
        ),
        (
            p == "infoblox" && !set("infoblox.gridHost"),
            "infoblox.gridHost",
            "required with provider infoblox",
        ),
        (
            p == "infoblox" && !set("infoblox.wapiPassword") && !set("infoblox.secretName"),
            "infoblox.wapiPassword",
            "required with provider infoblox, unless infoblox.secretName names an existing Secret",
        ),
        (
            p == "pdns" && !set("pdns.apiUrl"),
            "pdns.apiUrl",
            "required with provider pdns",
        ),
        (
            p == "pdns" && !set("pdns.apiKey") && !set("pdns.secretName"),
            "pdns.apiKey",
            "required with provider pdns, unless pdns.secretName names an existing Secret",
        ),
        (
            azure && !set("azure.resourceGroup") && set("azure.tenantId"),
            "azure.resourceGroup",
            "required with azure.tenantId",
        ),
        (
            azure && !set("azure.resourceGroup") && set("azure.subscriptionId"),
            "azure.resourceGroup",
            "required with azure.subscriptionId",
        ),
        (
            azure && !set("azure.tenantId") && set("azure.resourceGroup"),
            "azure.tenantId",
            "required with azure.resourceGroup",
        ),
        (
            azure && !set("azure.tenantId") && set("azure.subscriptionId"),
            "azure.tenantId",
            "required with azure.subscriptionId",
        ),
        (
            azure && !set("azure.subscriptionId") && set("azure.resourceGroup"),
            "azure.subscriptionId",
            "required with azure.resourceGroup",
        ),
        (
            azure && !set("azure.subscriptionId") && set("azure.tenantId"),
            "azure.subscriptionId",
            "required with azure.tenantId",
        ),
        (
            azure && set("azure.aadClientId") && msi,
            "azure.useManagedIdentityExtension",
            "azure.aadClientId must be empty with useManagedIdentityExtension",
        ),
        (
            azure && set("azure.aadClientSecret") && msi,
            "azure.useManagedIdentityExtension",
            "azure.aadClientSecret must be empty with useManagedIdentityExtension",
        ),
        (
            azure && !set("azure.aadClientId") && !msi && set("azure.aadClientSecret"),
            "azure.aadClientId",
            "required with azure.aadClientSecret",
        ),
        (
            azure && !set("azure.aadClientSecret") && !msi && set("azure.aadClientId"),
            "azure.aadClientSecret",
            "required with azure.aadClientId",
        ),
        (
            private && !set("azure.resourceGroup"),
            "azure.resourceGroup",
            "required with provider azure-private-dns",
        ),
        (
            private && !set("azure.tenantId"),
            "azure.tenantId",
            "required with provider azure-private-dns",
        ),
        (
            private && !set("azure.subscriptionId"),
            "azure.subscriptionId",
            "required with provider azure-private-dns",
        ),
        (
            private && !set("azure.secretName") && !set("azure.aadClientId") && !msi,
            "azure.aadClientId",
            "required with provider azure-private-dns without useManagedIdentityExtension",
        ),
        (
            private && !set("azure.secretName") && !set("azure.aadClientSecret") && !msi,
            "azure.aadClientSecret",
            "required with provider azure-private-dns without useManagedIdentityExtension",
        ),
        (
            private && !set("azure.secretName") && set("azure.aadClientId") && msi,
            "azure.useManagedIdentityExtension",
            "azure.aadClientId must be empty with useManagedIdentityExtension",
        ),
        (
            private && !set("azure.secretName") && set("azure.aadClientSecret") && msi,
            "azure.useManagedIdentityExtension",
            "azure.aadClientSecret must be empty with useManagedIdentityExtension",
        ),
        (
            p == "transip" && !set("transip.account"),
            "transip.account",
            "required with provider transip",
        ),
        (
            p == "transip" && !set("transip.apiKey"),
            "transip.apiKey",
            "required with provider transip",
        ),
        (
            p == "ovh" && !set("ovh.consumerKey"),
            "ovh.consumerKey",
            "required with provider ovh",
        ),
        (
            p == "ovh" && !set("ovh.applicationKey"),
            "ovh.applicationKey",
            "required with provider ovh",
        ),
        (
            p == "ovh" && !set("ovh.applicationSecret"),
            "ovh.applicationSecret",
            "required with provider ovh",
        ),
        (
            p == "scaleway" && !set("scaleway.scwAccessKey"),
            "scaleway.scwAccessKey",
            "required with provider scaleway",
        ),
        (
            p == "scaleway" && !set("scaleway.scwSecretKey"),
            "scaleway.scwSecretKey",
            "required with provider scaleway",
        ),
        (
            p == "scaleway" && !set("scaleway.scwDefaultOrganizationId"),
            "scaleway.scwDefaultOrganizationId",
            "required with provider scaleway",
        ),
    ];
    let failed: Vec<String> = checks
        .iter()
        .filter(|(fails, _, _)| *fails)
        .map(|(_, key, problem)| format!("  `{}`: {problem}", dns.v.key(key)))
        .collect();
    if !failed.is_empty() {
        bail!("invalid external-dns values:\n{}", failed.join("\n"));
    }
    Ok(())
}

/// `^arn:(aws|aws-us-gov|aws-cn):iam::.*$`.
fn is_role_arn(arn: &str) -> bool {
    ["arn:aws:iam::", "arn:aws-us-gov:iam::", "arn:aws-cn:iam::"]
        .iter()
        .any(|prefix| arn.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::{body, unread, with_ctx};

    #[test]
    fn role_arns_follow_the_chart_pattern() {
        assert!(is_role_arn("arn:aws:iam::123:role/x"));
        assert!(is_role_arn("arn:aws-cn:iam::123:role/x"));
        assert!(!is_role_arn("arn:aws:s3:::bucket"));
        assert!(!is_role_arn("role/x"));
    }

    fn render(values: &str) -> Result<Vec<Object>> {
        with_ctx(values, objects)
    }

    /// The body of this release's `kind` object (every external-dns object is `st2-external-dns`).
    fn find(objects: &[Object], kind: &str) -> serde_json::Value {
        body(objects, kind, "st2-external-dns")
            .expect("object rendered")
            .into_owned()
    }

    #[test]
    fn aws_arguments_and_credentials() {
        let objects = render(
            "external-dns: {enabled: true, domainFilters: [example.com], aws: {credentials: {accessKey: AK, secretKey: SK}}}",
        )
        .expect("render");
        let container = &find(&objects, "Deployment")["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            container["args"],
            serde_json::json!([
                "--log-level=info",
                "--log-format=text",
                "--domain-filter=example.com",
                "--policy=upsert-only",
                "--provider=aws",
                "--registry=txt",
                "--interval=1m",
                "--source=service",
                "--source=ingress",
                "--aws-api-retries=3",
                "--aws-zone-type=public",
                "--aws-batch-change-size=1000",
            ])
        );
        assert_eq!(container["volumeMounts"][0]["mountPath"], "/.aws");
        let secret = find(&objects, "Secret");
        assert_eq!(secret["metadata"]["name"], "st2-external-dns");
        assert!(secret["data"]["credentials"].is_string() && secret["data"]["config"].is_string());
        assert_eq!(
            find(&objects, "ClusterRoleBinding")["subjects"][0]["namespace"],
            "ns"
        );
    }

    /// The provider's flags after `--source=…` and its environment's variable names.
    fn provider_flags_and_env(values: &str) -> (Vec<String>, Vec<String>) {
        let objects = render(values).expect("render");
        let container =
            find(&objects, "Deployment")["spec"]["template"]["spec"]["containers"][0].clone();
        let strings = |list: &serde_json::Value, field: Option<&str>| -> Vec<String> {
            list.as_array()
                .into_iter()
                .flatten()
                .map(|item| field.map_or(item, |f| &item[f]))
                .filter_map(|item| item.as_str().map(String::from))
                .collect()
        };
        let args = strings(&container["args"], None);
        let last_source = args.iter().rposition(|a| a.starts_with("--source="));
        let flags = args[last_source.map_or(0, |i| i + 1)..].to_vec();
        (flags, strings(&container["env"], Some("name")))
    }

    /// The chart's AWS flags for every provider come after the AWS provider's own flags but
    /// before the Azure ones; its TSIG secret comes after every provider's variables but
    /// PowerDNS's and VinylDNS's.
    #[test]
    fn provider_flags_and_env_keep_the_chart_order() {
        let (flags, _) = provider_flags_and_env(
            "external-dns: {enabled: true, aws: {preferCNAME: true, credentials: {accessKey: AK, secretKey: SK}}}",
        );
        assert_eq!(
            flags,
            [
                "--aws-api-retries=3",
                "--aws-zone-type=public",
                "--aws-batch-change-size=1000",
                "--aws-prefer-cname",
            ]
        );
        let (flags, env) = provider_flags_and_env(
            "external-dns: {enabled: true, provider: azure-private-dns, aws: {preferCNAME: true}, \
             rfc2136: {tsigSecret: s}, azure: {resourceGroup: rg, subscriptionId: sub, \
             tenantId: t, aadClientId: id, aadClientSecret: cs}}",
        );
        assert_eq!(
            flags,
            [
                "--aws-prefer-cname",
                "--azure-resource-group=rg",
                "--azure-subscription-id=sub",
            ]
        );
        assert_eq!(
            env,
            [
                "AZURE_TENANT_ID",
                "AZURE_CLIENT_SECRET",
                "AZURE_CLIENT_ID",
                "EXTERNAL_DNS_RFC2136_TSIG_SECRET",
            ]
        );
        let (flags, env) = provider_flags_and_env(
            "external-dns: {enabled: true, provider: pdns, rfc2136: {tsigSecret: s}, \
             pdns: {apiUrl: http://pdns, apiKey: k}}",
        );
        assert_eq!(
            flags,
            [
                "--pdns-server=http://pdns:8081",
                "--pdns-api-key=$(PDNS_API_KEY)",
            ]
        );
        assert_eq!(env, ["EXTERNAL_DNS_RFC2136_TSIG_SECRET", "PDNS_API_KEY"]);
    }

    #[test]
    fn validation_fails_like_the_chart() {
        let err =
            render("external-dns: {enabled: true, provider: infoblox}").expect_err("must fail");
        let text = format!("{err:#}");
        assert!(
            text.contains("external-dns.infoblox.gridHost")
                && text.contains("external-dns.infoblox.wapiPassword"),
            "{text}"
        );
        assert!(render("external-dns: {enabled: true, provider: ''}").is_err());
    }

    #[test]
    fn unread_keys_are_reported() {
        let yaml = "external-dns: {enabled: true, crd: {create: true}, rbac: {pspEnabled: true}}";
        assert_eq!(
            unread(yaml),
            ["external-dns.crd.create", "external-dns.rbac.pspEnabled"]
        );
        // Another provider's settings are ignored by the chart too: no warning.
        assert!(
            unread("external-dns: {enabled: true, provider: aws, google: {project: p}}").is_empty()
        );
    }
}
