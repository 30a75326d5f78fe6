//! The Deployment `<release>-external-dns`: one container whose arguments, environment and
//! credential mounts depend on the DNS provider, in the chart's order.
//!
//! One fix: the chart's TransIP volume sets `secret.name`, a field Kubernetes does not have;
//! st2k8s mounts the Secret by `secretName`.

use anyhow::Result;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, ContainerPort, EnvVar, HostPathVolumeSource, KeyToPath,
    LocalObjectReference, PodSpec, PodTemplateSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::ExternalDns;
use super::secret::{creates_secret, custom_ca, secret_name};
use crate::object::Object;
use crate::render::backends::{bitnami_image, tpl_typed};
use crate::render::kit::{
    env_secret, env_value, mount, mount_ro, secret_volume, secret_volume_mode, string_map,
};
use crate::values::Value;

pub(super) fn object(dns: &ExternalDns) -> Result<Object> {
    let v = &dns.v;
    let env_vars = env(dns)?;
    let mounts = mounts(dns)?;
    let volumes = volumes(dns)?;
    let (env_empty, mounts_empty, volumes_empty) =
        (env_vars.is_empty(), mounts.is_empty(), volumes.is_empty());

    let mut annotations = std::collections::BTreeMap::new();
    if v.at("podAnnotations").truthy() || v.at("metrics.enabled").truthy() {
        annotations.extend(string_map(v.at("podAnnotations").value()));
        annotations.extend(string_map(v.at("metrics.podAnnotations").value()));
    }
    let has_secret = creates_secret(dns);
    let has_ca = custom_ca(dns);
    let annotations_null = annotations.is_empty() && !has_secret && !has_ca;

    let container = Container {
        name: "external-dns".into(),
        image: Some(bitnami_image(
            v.at("image"),
            v.at("global"),
            &v.key("image"),
        )?),
        image_pull_policy: Some(v.string("image.pullPolicy")),
        args: Some(args(dns)?),
        env: (!env_empty).then_some(env_vars),
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: v.int("service.port")?,
            ..Default::default()
        }]),
        readiness_probe: v.typed("readinessProbe")?,
        liveness_probe: v.typed("livenessProbe")?,
        security_context: v
            .at("securityContext")
            .non_empty()
            .map(|_| v.typed("securityContext"))
            .transpose()?,
        resources: v
            .at("resources")
            .non_empty()
            .map(|_| v.typed("resources"))
            .transpose()?,
        volume_mounts: (!mounts_empty).then_some(mounts),
        ..Default::default()
    };
    let pod = PodSpec {
        image_pull_secrets: pull_secrets(dns),
        security_context: v
            .at("podSecurityContext")
            .non_empty()
            .map(|_| v.typed("podSecurityContext"))
            .transpose()?,
        affinity: tpl_typed(dns.ctx, v, "affinity")?,
        node_selector: tpl_typed(dns.ctx, v, "nodeSelector")?,
        tolerations: tpl_typed(dns.ctx, v, "tolerations")?,
        service_account_name: Some(dns.service_account()),
        priority_class_name: v
            .at("priorityClassName")
            .non_empty()
            .map(Value::to_go_string),
        containers: vec![container],
        volumes: (!volumes_empty).then_some(volumes),
        ..Default::default()
    };
    let deployment = Deployment {
        metadata: dns.meta(dns.fullname.clone()),
        spec: Some(DeploymentSpec {
            replicas: Some(v.int("replicas")?),
            selector: LabelSelector {
                match_labels: Some(dns.selector()),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(dns.labels()),
                    annotations: (!annotations.is_empty()).then_some(annotations),
                    ..Default::default()
                }),
                spec: Some(pod),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut object = Object::new(&deployment)?;
    if has_secret {
        object = object.checksum("checksum/secret", &[("Secret", &dns.fullname)]);
    }
    if has_ca {
        object = object.checksum("checksum/config", &[("ConfigMap", &dns.fullname)]);
    }
    // Where the chart prints empty blocks as `null`.
    if annotations_null {
        object.set_null("spec.template.metadata.annotations");
    }
    if env_empty {
        object.set_null("spec.template.spec.containers[0].env");
    }
    if mounts_empty {
        object.set_null("spec.template.spec.containers[0].volumeMounts");
    }
    if volumes_empty {
        object.set_null("spec.template.spec.volumes");
    }
    Ok(object)
}

/// `global.imagePullSecrets`, else `image.pullSecrets`.
fn pull_secrets(dns: &ExternalDns) -> Option<Vec<LocalObjectReference>> {
    let global = dns.v.global(dns.ctx, "imagePullSecrets");
    let names = if global.truthy() {
        global
    } else {
        dns.v.at("image.pullSecrets")
    };
    names.non_empty().map(|list| {
        list.as_list()
            .iter()
            .map(|n| LocalObjectReference {
                name: n.to_go_string(),
            })
            .collect()
    })
}

/// The command line, in the chart's order: generic flags, filters, policy/provider/registry,
/// sources, then the provider's own flags and `extraArgs`.
fn args(dns: &ExternalDns) -> Result<Vec<String>> {
    let v = &dns.v;
    let mut a = common_args(dns);
    let provider = provider_args(dns)?;
    // The chart prints the AWS flags that apply to every provider after the Alibaba and AWS
    // providers' own flags but before the others'.
    if matches!(dns.provider.as_str(), "alibabacloud" | "aws" | "aws-sd") {
        a.extend(provider);
        a.extend(aws_global_args(dns));
    } else {
        a.extend(aws_global_args(dns));
        a.extend(provider);
    }
    for (key, value) in v.at("extraArgs").entries() {
        a.push(if value.truthy() {
            format!("--{key}={}", value.to_go_string())
        } else {
            format!("--{key}")
        });
    }
    Ok(a)
}

/// The flags every provider gets: logging, filters, policy, provider, registry and sources.
fn common_args(dns: &ExternalDns) -> Vec<String> {
    let v = &dns.v;
    let set = |path: &str| dns.set(path);
    let s = |path: &str| v.string(path);
    let mut a: Vec<String> = Vec::new();
    flag_if(
        &mut a,
        set("logLevel"),
        format!("--log-level={}", s("logLevel")),
    );
    flag_if(
        &mut a,
        set("logFormat"),
        format!("--log-format={}", s("logFormat")),
    );
    flag_if(&mut a, set("dryRun"), "--dry-run".into());
    flag_if(&mut a, set("triggerLoopOnEvent"), "--events".into());
    flag_if(
        &mut a,
        set("namespace"),
        format!("--namespace={}", s("namespace")),
    );
    let templates: Vec<String> = v
        .at("fqdnTemplates")
        .as_list()
        .iter()
        .map(Value::to_go_string)
        .collect();
    flag_if(
        &mut a,
        set("fqdnTemplates"),
        format!("--fqdn-template={}", templates.join(",")),
    );
    flag_if(
        &mut a,
        set("combineFQDNAnnotation"),
        "--combine-fqdn-annotation".into(),
    );
    flag_if(
        &mut a,
        set("ignoreHostnameAnnotation") && set("fqdnTemplates"),
        "--ignore-hostname-annotation".into(),
    );
    flag_if(
        &mut a,
        set("publishInternalServices"),
        "--publish-internal-services".into(),
    );
    flag_if(&mut a, set("publishHostIP"), "--publish-host-ip".into());
    list_flags(dns, "serviceTypeFilter", "service-type-filter", &mut a);
    list_flags(dns, "domainFilters", "domain-filter", &mut a);
    list_flags(dns, "excludeDomains", "exclude-domains", &mut a);
    list_flags(dns, "zoneIdFilters", "zone-id-filter", &mut a);
    a.push(format!("--policy={}", s("policy")));
    a.push(format!("--provider={}", dns.provider));
    a.push(format!("--registry={}", s("registry")));
    a.push(format!("--interval={}", s("interval")));
    if s("registry") == "txt" {
        flag_if(
            &mut a,
            set("txtOwnerId"),
            format!("--txt-owner-id={}", s("txtOwnerId")),
        );
        flag_if(
            &mut a,
            set("txtPrefix"),
            format!("--txt-prefix={}", s("txtPrefix")),
        );
    }
    flag_if(
        &mut a,
        set("annotationFilter"),
        format!("--annotation-filter={}", s("annotationFilter")),
    );
    flag_if(
        &mut a,
        set("crd.apiversion"),
        format!("--crd-source-apiversion={}", s("crd.apiversion")),
    );
    flag_if(
        &mut a,
        set("crd.kind"),
        format!("--crd-source-kind={}", s("crd.kind")),
    );
    list_flags(dns, "sources", "source", &mut a);
    a
}

/// The selected provider's own flags.
fn provider_args(dns: &ExternalDns) -> Result<Vec<String>> {
    Ok(match dns.provider.as_str() {
        "alibabacloud" => alibaba_args(dns),
        "aws" | "aws-sd" => aws_args(dns),
        p @ ("azure" | "azure-private-dns") => azure_args(dns, p == "azure-private-dns"),
        "cloudflare" => cloudflare_args(dns),
        "google" => google_args(dns),
        "infoblox" => infoblox_args(dns),
        "rfc2136" => rfc2136_args(dns)?,
        "pdns" => pdns_args(dns),
        "transip" => transip_args(dns),
        _ => Vec::new(),
    })
}

fn alibaba_args(dns: &ExternalDns) -> Vec<String> {
    let mut a = Vec::new();
    flag_if(
        &mut a,
        alibaba_configured(dns),
        "--alibaba-cloud-config-file=/etc/kubernetes/alibaba-cloud.json".into(),
    );
    flag_if(
        &mut a,
        dns.set("alibabacloud.zoneType"),
        format!(
            "--alibaba-cloud-zone-type={}",
            dns.v.string("alibabacloud.zoneType")
        ),
    );
    a
}

fn aws_args(dns: &ExternalDns) -> Vec<String> {
    let mut a = Vec::new();
    for (path, flag) in [
        ("aws.apiRetries", "aws-api-retries"),
        ("aws.zoneType", "aws-zone-type"),
        ("aws.assumeRoleArn", "aws-assume-role"),
        ("aws.batchChangeSize", "aws-batch-change-size"),
    ] {
        flag_if(
            &mut a,
            dns.set(path),
            format!("--{flag}={}", dns.v.string(path)),
        );
    }
    a
}

/// The AWS flags the chart prints whatever the provider.
fn aws_global_args(dns: &ExternalDns) -> Vec<String> {
    let mut a = Vec::new();
    list_flags(dns, "aws.zoneTags", "aws-zone-tags", &mut a);
    flag_if(
        &mut a,
        dns.set("aws.preferCNAME"),
        "--aws-prefer-cname".into(),
    );
    flag_if(
        &mut a,
        dns.v.at("aws.evaluateTargetHealth").value() == &Value::Bool(false),
        "--no-aws-evaluate-target-health".into(),
    );
    a
}

/// `azure` and `azure-private-dns` (`private`): the resource group unless the `azure` config
/// comes from a Secret, plus the private DNS's subscription.
fn azure_args(dns: &ExternalDns, private: bool) -> Vec<String> {
    let mut a = Vec::new();
    if private || !dns.set("azure.secretName") {
        flag_if(
            &mut a,
            dns.set("azure.resourceGroup"),
            format!(
                "--azure-resource-group={}",
                dns.v.string("azure.resourceGroup")
            ),
        );
    }
    if private {
        flag_if(
            &mut a,
            dns.set("azure.subscriptionId"),
            format!(
                "--azure-subscription-id={}",
                dns.v.string("azure.subscriptionId")
            ),
        );
    }
    a
}

fn cloudflare_args(dns: &ExternalDns) -> Vec<String> {
    let mut a = Vec::new();
    flag_if(
        &mut a,
        dns.set("cloudflare.proxied"),
        "--cloudflare-proxied".into(),
    );
    a
}

fn google_args(dns: &ExternalDns) -> Vec<String> {
    let mut a = Vec::new();
    flag_if(
        &mut a,
        dns.set("google.project"),
        format!("--google-project={}", dns.v.string("google.project")),
    );
    a
}

fn infoblox_args(dns: &ExternalDns) -> Vec<String> {
    let set = |path: &str| dns.set(path);
    let s = |path: &str| dns.v.string(path);
    let mut a = vec![
        format!("--infoblox-grid-host={}", s("infoblox.gridHost")),
        format!("--infoblox-view={}", s("infoblox.view")),
    ];
    flag_if(
        &mut a,
        set("infoblox.domainFilter"),
        format!("--domain-filter={}", s("infoblox.domainFilter")),
    );
    flag_if(
        &mut a,
        set("infoblox.wapiPort"),
        format!("--infoblox-wapi-port={}", s("infoblox.wapiPort")),
    );
    flag_if(
        &mut a,
        set("infoblox.wapiVersion"),
        format!("--infoblox-wapi-version={}", s("infoblox.wapiVersion")),
    );
    a.push(
        if set("infoblox.noSslVerify") {
            "--no-infoblox-ssl-verify"
        } else {
            "--infoblox-ssl-verify"
        }
        .into(),
    );
    a
}

fn rfc2136_args(dns: &ExternalDns) -> Result<Vec<String>> {
    let set = |path: &str| dns.set(path);
    let s = |path: &str| dns.v.string(path);
    for key in ["host", "zone"] {
        if !set(&format!("rfc2136.{key}")) {
            anyhow::bail!("rfc2136.{key} must be supplied for provider 'rfc2136'");
        }
    }
    let mut a = vec![
        format!("--rfc2136-host={}", s("rfc2136.host")),
        format!("--rfc2136-port={}", s("rfc2136.port")),
        format!("--rfc2136-zone={}", s("rfc2136.zone")),
        format!("--rfc2136-min-ttl={}", s("rfc2136.minTTL")),
    ];
    if set("rfc2136.tsigKeyname") {
        a.push(format!(
            "--rfc2136-tsig-secret-alg={}",
            s("rfc2136.tsigSecretAlg")
        ));
        a.push(format!(
            "--rfc2136-tsig-keyname={}",
            s("rfc2136.tsigKeyname")
        ));
        flag_if(
            &mut a,
            set("rfc2136.tsigAxfr"),
            "--rfc2136-tsig-axfr".into(),
        );
    } else {
        a.push("--rfc2136-insecure".into());
    }
    Ok(a)
}

fn pdns_args(dns: &ExternalDns) -> Vec<String> {
    vec![
        format!(
            "--pdns-server={}:{}",
            dns.v.string("pdns.apiUrl"),
            dns.v.string("pdns.apiPort")
        ),
        "--pdns-api-key=$(PDNS_API_KEY)".into(),
    ]
}

fn transip_args(dns: &ExternalDns) -> Vec<String> {
    vec![
        format!("--transip-account={}", dns.v.string("transip.account")),
        "--transip-keyfile=/transip/transip-api-key".into(),
    ]
}

/// Append `--<flag>=<item>` for each item of the list at `path`.
fn list_flags(dns: &ExternalDns, path: &str, flag: &str, args: &mut Vec<String>) {
    args.extend(
        dns.v
            .at(path)
            .as_list()
            .iter()
            .map(|item| format!("--{flag}={}", item.to_go_string())),
    );
}

/// Append `flag` when `cond` holds.
fn flag_if(args: &mut Vec<String>, cond: bool, flag: String) {
    if cond {
        args.push(flag);
    }
}

/// `name` from key `key` of the external-dns Secret.
fn from_secret(dns: &ExternalDns, name: &str, key: &str, optional: bool) -> EnvVar {
    env_secret(name, secret_name(dns), key, optional)
}

/// The provider's environment, then `extraEnv`.
fn env(dns: &ExternalDns) -> Result<Vec<EnvVar>> {
    let mut e = Vec::new();
    // As in the chart, the RFC 2136 TSIG secret is passed whatever the provider, after the
    // other providers' variables but before PowerDNS's and VinylDNS's.
    let tsig = dns.set("rfc2136.tsigSecret").then(|| {
        from_secret(
            dns,
            "EXTERNAL_DNS_RFC2136_TSIG_SECRET",
            "rfc2136_tsig_secret",
            false,
        )
    });
    if matches!(dns.provider.as_str(), "pdns" | "vinyldns") {
        e.extend(tsig);
        e.extend(provider_env(dns));
    } else {
        e.extend(provider_env(dns));
        e.extend(tsig);
    }
    if dns.set("extraEnv") {
        e.extend(dns.v.typed::<Vec<EnvVar>>("extraEnv")?);
    }
    Ok(e)
}

/// The selected provider's own environment.
fn provider_env(dns: &ExternalDns) -> Vec<EnvVar> {
    match dns.provider.as_str() {
        "aws" | "aws-sd" => aws_env(dns),
        "azure-private-dns" => azure_private_env(dns),
        "cloudflare" => cloudflare_env(dns),
        "coredns" => coredns_env(dns),
        "designate" => designate_env(dns),
        "digitalocean" => digitalocean_env(dns),
        "google" => google_env(dns),
        "ovh" => secret_vars(
            dns,
            &[
                ("ovh.consumerKey", "OVH_CONSUMER_KEY", "ovh_consumer_key"),
                (
                    "ovh.applicationKey",
                    "OVH_APPLICATION_KEY",
                    "ovh_application_key",
                ),
                (
                    "ovh.applicationSecret",
                    "OVH_APPLICATION_SECRET",
                    "ovh_application_secret",
                ),
            ],
        ),
        "scaleway" => secret_vars(
            dns,
            &[
                ("scaleway.scwAccessKey", "SCW_ACCESS_KEY", "scw_access_key"),
                ("scaleway.scwSecretKey", "SCW_SECRET_KEY", "scw_secret_key"),
                (
                    "scaleway.scwDefaultOrganizationId",
                    "SCW_DEFAULT_ORGANIZATION_ID",
                    "scw_default_organization_id",
                ),
            ],
        ),
        "infoblox" => infoblox_env(dns),
        "pdns" => vec![from_secret(dns, "PDNS_API_KEY", "pdns_api_key", false)],
        "vinyldns" => vinyldns_env(dns),
        _ => Vec::new(),
    }
}

/// For each `(path, variable, key)` whose `path` is set, `variable` from the Secret's `key`.
fn secret_vars(dns: &ExternalDns, pairs: &[(&str, &str, &str)]) -> Vec<EnvVar> {
    pairs
        .iter()
        .filter(|(path, _, _)| dns.set(path))
        .map(|(_, name, key)| from_secret(dns, name, key, false))
        .collect()
}

fn aws_env(dns: &ExternalDns) -> Vec<EnvVar> {
    let set = |path: &str| dns.set(path);
    let s = |path: &str| dns.v.string(path);
    let mut e = Vec::new();
    if set("aws.region") {
        e.push(env_value("AWS_DEFAULT_REGION", s("aws.region")));
    }
    if set("aws.roleArn") {
        e.push(env_value(
            "AWS_CONFIG_FILE",
            format!("{}/config", s("aws.credentials.mountPath")),
        ));
    }
    if set("aws.credentials.secretKey") && set("aws.credentials.accessKey") {
        e.push(env_value(
            "AWS_SHARED_CREDENTIALS_FILE",
            format!("{}/credentials", s("aws.credentials.mountPath")),
        ));
    }
    e
}

fn azure_private_env(dns: &ExternalDns) -> Vec<EnvVar> {
    let set = |path: &str| dns.set(path);
    let mut e = Vec::new();
    if set("azure.tenantId") {
        e.push(env_value("AZURE_TENANT_ID", dns.v.string("azure.tenantId")));
    }
    if !set("azure.useManagedIdentityExtension")
        && (set("azure.aadClientId") || set("azure.aadClientSecret") || set("azure.secretName"))
    {
        e.push(from_secret(
            dns,
            "AZURE_CLIENT_SECRET",
            "azure_aad_client_secret",
            false,
        ));
        e.push(from_secret(
            dns,
            "AZURE_CLIENT_ID",
            "azure_aad_client_id",
            false,
        ));
    }
    e
}

fn cloudflare_env(dns: &ExternalDns) -> Vec<EnvVar> {
    vec![
        from_secret(dns, "CF_API_TOKEN", "cloudflare_api_token", true),
        from_secret(dns, "CF_API_KEY", "cloudflare_api_key", true),
        env_value(
            "CF_API_EMAIL",
            if dns.v.at("cloudflare.email").is_null() {
                String::new()
            } else {
                dns.v.string("cloudflare.email")
            },
        ),
    ]
}

fn coredns_env(dns: &ExternalDns) -> Vec<EnvVar> {
    let s = |path: &str| dns.v.string(path);
    let mut e = vec![env_value("ETCD_URLS", s("coredns.etcdEndpoints"))];
    if dns.set("coredns.etcdTLS.enabled") {
        let dir = s("coredns.etcdTLS.mountPath");
        for (name, file) in [
            ("ETCD_CERT_FILE", "certFilename"),
            ("ETCD_KEY_FILE", "keyFilename"),
            ("ETCD_CA_FILE", "caFilename"),
        ] {
            e.push(env_value(
                name,
                format!("{dir}/{}", s(&format!("coredns.etcdTLS.{file}"))),
            ));
        }
    }
    e
}

fn designate_env(dns: &ExternalDns) -> Vec<EnvVar> {
    let set = |path: &str| dns.set(path);
    let s = |path: &str| dns.v.string(path);
    let mut e = Vec::new();
    if custom_ca(dns) {
        e.push(env_value(
            "OPENSTACK_CA_FILE",
            format!(
                "{}/{}",
                s("designate.customCA.mountPath"),
                s("designate.customCA.filename")
            ),
        ));
    } else if set("designate.customCAHostPath") {
        e.push(env_value(
            "OPENSTACK_CA_FILE",
            s("designate.customCAHostPath"),
        ));
    }
    if set("designate.username") {
        e.push(from_secret(dns, "OS_USERNAME", "designate_username", false));
    }
    if set("designate.password") {
        e.push(from_secret(dns, "OS_PASSWORD", "designate_password", false));
    }
    for (name, path) in [
        ("OS_AUTH_URL", "designate.authUrl"),
        ("OS_REGION_NAME", "designate.regionName"),
        ("OS_USER_DOMAIN_NAME", "designate.userDomainName"),
        ("OS_PROJECT_NAME", "designate.projectName"),
    ] {
        if set(path) {
            e.push(env_value(name, s(path)));
        }
    }
    e
}

fn digitalocean_env(dns: &ExternalDns) -> Vec<EnvVar> {
    if !(dns.set("digitalocean.apiToken") || dns.set("digitalocean.secretName")) {
        return Vec::new();
    }
    vec![from_secret(
        dns,
        "DO_TOKEN",
        "digitalocean_api_token",
        false,
    )]
}

fn google_env(dns: &ExternalDns) -> Vec<EnvVar> {
    if !(dns.set("google.serviceAccountSecret") || dns.set("google.serviceAccountKey")) {
        return Vec::new();
    }
    vec![env_value(
        "GOOGLE_APPLICATION_CREDENTIALS",
        "/etc/secrets/service-account/credentials.json",
    )]
}

fn infoblox_env(dns: &ExternalDns) -> Vec<EnvVar> {
    let set = |path: &str| dns.set(path);
    let s = |path: &str| dns.v.string(path);
    let mut e = Vec::new();
    if set("infoblox.wapiConnectionPoolSize") {
        e.push(env_value(
            "EXTERNAL_DNS_INFOBLOX_HTTP_POOL_CONNECTIONS",
            s("infoblox.wapiConnectionPoolSize"),
        ));
    }
    if set("infoblox.wapiHttpTimeout") {
        e.push(env_value(
            "EXTERNAL_DNS_INFOBLOX_HTTP_REQUEST_TIMEOUT",
            s("infoblox.wapiHttpTimeout"),
        ));
    }
    if (set("infoblox.wapiUsername") && set("infoblox.wapiPassword")) || set("infoblox.secretName")
    {
        e.push(from_secret(
            dns,
            "EXTERNAL_DNS_INFOBLOX_WAPI_USERNAME",
            "infoblox_wapi_username",
            false,
        ));
        e.push(from_secret(
            dns,
            "EXTERNAL_DNS_INFOBLOX_WAPI_PASSWORD",
            "infoblox_wapi_password",
            false,
        ));
    }
    e
}

fn vinyldns_env(dns: &ExternalDns) -> Vec<EnvVar> {
    let mut e = Vec::new();
    if dns.set("vinyldns.host") {
        e.push(env_value("VINYLDNS_HOST", dns.v.string("vinyldns.host")));
    }
    e.extend(secret_vars(
        dns,
        &[
            (
                "vinyldns.accessKey",
                "VINYLDNS_ACCESS_KEY",
                "vinyldns-access-key",
            ),
            (
                "vinyldns.secretKey",
                "VINYLDNS_SECRET_KEY",
                "vinyldns-secret-key",
            ),
        ],
    ));
    e
}

/// Does the Azure config come from a Secret (else from the node's `/etc/kubernetes/azure.json`)?
fn azure_from_secret(dns: &ExternalDns) -> bool {
    dns.set("azure.secretName")
        || (dns.set("azure.resourceGroup")
            && dns.set("azure.tenantId")
            && dns.set("azure.subscriptionId"))
}

fn alibaba_configured(dns: &ExternalDns) -> bool {
    (dns.set("alibabacloud.accessKeyId") && dns.set("alibabacloud.accessKeySecret"))
        || dns.set("alibabacloud.secretName")
}

fn google_configured(dns: &ExternalDns) -> bool {
    dns.set("google.serviceAccountKey") || dns.set("google.serviceAccountSecret")
}

fn mounts(dns: &ExternalDns) -> Result<Vec<VolumeMount>> {
    let v = &dns.v;
    let p = dns.provider.as_str();
    let mut m = Vec::new();
    if p == "alibabacloud" && alibaba_configured(dns) {
        m.push(mount_ro(
            "alibabacloud-config-file",
            "/etc/kubernetes/",
            true,
        ));
    }
    if p == "aws"
        && ((dns.set("aws.credentials.secretKey") && dns.set("aws.credentials.accessKey"))
            || dns.set("aws.credentials.secretName"))
    {
        m.push(mount_ro(
            "aws-credentials",
            &v.string("aws.credentials.mountPath"),
            true,
        ));
    }
    if p == "azure" || p == "azure-private-dns" {
        let path = if azure_from_secret(dns) {
            "/etc/kubernetes/"
        } else if !dns.set("azure.useManagedIdentityExtension") {
            "/etc/kubernetes/azure.json"
        } else {
            ""
        };
        m.push(mount_ro("azure-config-file", path, true));
    }
    if p == "coredns" && dns.set("coredns.etcdTLS.enabled") {
        m.push(mount_ro(
            &v.string("coredns.etcdTLS.secretName"),
            &v.string("coredns.etcdTLS.mountPath"),
            true,
        ));
    }
    if p == "google" && google_configured(dns) {
        m.push(mount(
            "google-service-account",
            "/etc/secrets/service-account/",
        ));
    }
    if p == "designate" {
        if custom_ca(dns) && dns.set("designate.customCAHostPath") {
            anyhow::bail!(
                "designate.customCAHostPath cannot be specified with designate.customCA.enabled set to true"
            );
        } else if custom_ca(dns) {
            m.push(mount_ro(
                "designate-custom-ca",
                &v.string("designate.customCA.mountPath"),
                true,
            ));
        } else if dns.set("designate.customCAHostPath") {
            m.push(mount_ro(
                "designate-custom-ca-hostpath",
                &v.string("designate.customCAHostPath"),
                true,
            ));
        }
    }
    if p == "transip" {
        m.push(mount_ro("transip-api-key", "/transip", true));
    }
    if dns.set("extraVolumeMounts") {
        m.extend(v.typed::<Vec<VolumeMount>>("extraVolumeMounts")?);
    }
    Ok(m)
}

fn host_path(name: &str, path: String, type_: Option<&str>) -> Volume {
    Volume {
        name: name.into(),
        host_path: Some(HostPathVolumeSource {
            path,
            type_: type_.map(str::to_string),
        }),
        ..Default::default()
    }
}

fn volumes(dns: &ExternalDns) -> Result<Vec<Volume>> {
    let v = &dns.v;
    let p = dns.provider.as_str();
    let mut out = Vec::new();
    if p == "alibabacloud" && alibaba_configured(dns) {
        out.push(secret_volume(
            "alibabacloud-config-file",
            secret_name(dns),
            None,
        ));
    }
    if p == "aws"
        && ((dns.set("aws.credentials.secretKey") && dns.set("aws.credentials.accessKey"))
            || dns.set("aws.credentials.secretName"))
    {
        out.push(secret_volume("aws-credentials", secret_name(dns), None));
    }
    if p == "azure" || p == "azure-private-dns" {
        out.push(if azure_from_secret(dns) {
            secret_volume("azure-config-file", secret_name(dns), None)
        } else if !dns.set("azure.useManagedIdentityExtension") {
            host_path(
                "azure-config-file",
                "/etc/kubernetes/azure.json".into(),
                Some("File"),
            )
        } else {
            Volume {
                name: "azure-config-file".into(),
                ..Default::default()
            }
        });
    }
    if p == "coredns" && dns.set("coredns.etcdTLS.enabled") {
        let secret = v.string("coredns.etcdTLS.secretName");
        // The chart's mode is the decimal 400, kept as is.
        out.push(secret_volume_mode(&secret, secret.clone(), None, Some(400)));
    }
    if p == "google" && google_configured(dns) {
        let items = (dns.set("google.serviceAccountSecret")
            && dns.set("google.serviceAccountSecretKey"))
        .then(|| {
            vec![KeyToPath {
                key: v.string("google.serviceAccountSecretKey"),
                path: "credentials.json".into(),
                ..Default::default()
            }]
        });
        out.push(secret_volume(
            "google-service-account",
            secret_name(dns),
            items,
        ));
    }
    if p == "designate" {
        if custom_ca(dns) {
            let file = v.string("designate.customCA.filename");
            out.push(Volume {
                name: "designate-custom-ca".into(),
                config_map: Some(ConfigMapVolumeSource {
                    name: dns.fullname.clone(),
                    items: Some(vec![KeyToPath {
                        key: file.clone(),
                        path: file,
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            });
        } else if dns.set("designate.customCAHostPath") {
            out.push(host_path(
                "designate-custom-ca-hostpath",
                v.string("designate.customCAHostPath"),
                None,
            ));
        }
    }
    if p == "transip" {
        out.push(secret_volume("transip-api-key", dns.fullname.clone(), None));
    }
    if dns.set("extraVolumes") {
        out.extend(v.typed::<Vec<Volume>>("extraVolumes")?);
    }
    Ok(out)
}
