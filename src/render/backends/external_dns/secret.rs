//! The provider credentials external-dns reads: the Secret `<release>-external-dns` built from
//! the provider's values, the name of the Secret the pod uses (a user's existing one wins), and
//! the designate CA ConfigMap.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use serde::Serialize;

use super::ExternalDns;
use crate::object::Object;
use crate::templates;

/// The Secret (iff the provider's credentials are given as values) and the designate CA ConfigMap.
pub(super) fn objects(dns: &ExternalDns) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    if creates_secret(dns) {
        out.push(Object::new(&Secret {
            metadata: dns.meta(dns.fullname.clone()),
            type_: Some("Opaque".into()),
            data: Some(
                secret_data(dns)?
                    .into_iter()
                    .map(|(k, v)| (k, ByteString(v.into_bytes())))
                    .collect(),
            ),
            ..Default::default()
        })?);
    }
    if custom_ca(dns) {
        let file = dns.v.string("designate.customCA.filename");
        let content = dns
            .v
            .at("designate.customCA.content")
            .as_str()
            .unwrap_or_default()
            .trim_end_matches('\n');
        // The chart writes the certificate as a `|` block: one final line break.
        let content = if content.is_empty() {
            String::new()
        } else {
            format!("{content}\n")
        };
        out.push(Object::new(&ConfigMap {
            metadata: dns.meta(dns.fullname.clone()),
            data: Some(BTreeMap::from([(file, content)])),
            ..Default::default()
        })?);
    }
    Ok(out)
}

/// Does the designate provider get its CA from the ConfigMap?
pub(super) fn custom_ca(dns: &ExternalDns) -> bool {
    dns.provider == "designate" && dns.set("designate.customCA.enabled")
}

/// The chart's `external-dns.createSecret`: credentials given as values, for the provider in use.
pub(super) fn creates_secret(dns: &ExternalDns) -> bool {
    let set = |path: &str| dns.set(path);
    let azure_full =
        set("azure.resourceGroup") && set("azure.tenantId") && set("azure.subscriptionId");
    let msi = set("azure.useManagedIdentityExtension");
    match dns.provider.as_str() {
        "alibabacloud" => {
            set("alibabacloud.accessKeyId")
                && set("alibabacloud.accessKeySecret")
                && !set("alibabacloud.secretName")
        }
        "aws" => {
            set("aws.credentials.secretKey")
                && set("aws.credentials.accessKey")
                && !set("aws.credentials.secretName")
        }
        "azure" => {
            azure_full
                && (msi || (set("azure.aadClientId") && set("azure.aadClientSecret")))
                && !set("azure.secretName")
        }
        "azure-private-dns" => {
            (set("azure.aadClientId") && set("azure.aadClientSecret")) || !set("azure.secretName")
        }
        "cloudflare" => {
            (set("cloudflare.apiToken") || set("cloudflare.apiKey"))
                && !set("cloudflare.secretName")
        }
        "designate" => set("designate.username") || set("designate.password"),
        "digitalocean" => set("digitalocean.apiToken") && !set("digitalocean.secretName"),
        "google" => set("google.serviceAccountKey") && !set("google.serviceAccountSecret"),
        "infoblox" => {
            set("infoblox.wapiUsername")
                && set("infoblox.wapiPassword")
                && !set("infoblox.secretName")
        }
        "rfc2136" => set("rfc2136.tsigSecret"),
        "pdns" => set("pdns.apiKey") && !set("pdns.secretName"),
        "transip" => set("transip.apiKey"),
        "ovh" => set("ovh.consumerKey"),
        "scaleway" => set("scaleway.scwAccessKey"),
        "vinyldns" => set("vinyldns.secretKey") || set("vinyldns.accessKey"),
        _ => false,
    }
}

/// The Secret the pod reads credentials from: the provider's existing-secret key if set,
/// else the chart's own (`<release>-external-dns` by default).
pub(super) fn secret_name(dns: &ExternalDns) -> String {
    let existing = match dns.provider.as_str() {
        "alibabacloud" => "alibabacloud.secretName",
        "aws" => "aws.credentials.secretName",
        "azure" | "azure-private-dns" => "azure.secretName",
        "cloudflare" => "cloudflare.secretName",
        "digitalocean" => "digitalocean.secretName",
        "google" => "google.serviceAccountSecret",
        "pdns" => "pdns.secretName",
        "infoblox" => "infoblox.secretName",
        _ => return dns.fullname.clone(),
    };
    dns.v
        .at(existing)
        .non_empty()
        .map_or_else(|| dns.fullname.clone(), |name| name.to_go_string())
}

#[derive(Serialize)]
struct AwsFiles {
    access_key: String,
    secret_key: String,
    region: String,
}

#[derive(Serialize)]
struct AlibabaFile {
    region_id: String,
    access_key_id: String,
    access_key_secret: String,
}

#[derive(Serialize)]
struct AzureFile {
    cloud: String,
    tenant_id: String,
    subscription_id: String,
    resource_group: String,
    managed_identity: bool,
    aad_client_id: String,
    aad_client_secret: String,
}

/// The Secret's entries for the provider in use (plain text; encoded by the caller).
fn secret_data(dns: &ExternalDns) -> Result<BTreeMap<String, String>> {
    // Unset values are empty strings here (the chart would print them as empty or fail).
    let text = |path: &str| {
        dns.v
            .at(path)
            .non_empty()
            .map(|v| v.to_go_string())
            .unwrap_or_default()
    };
    let entries = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, path)| (key.to_string(), text(path)))
            .collect()
    };
    Ok(match dns.provider.as_str() {
        "alibabacloud" => BTreeMap::from([(
            "alibaba-cloud.json".to_string(),
            templates::render(
                "external-dns/alibaba-cloud.json",
                AlibabaFile {
                    region_id: text("alibabacloud.regionId"),
                    access_key_id: text("alibabacloud.accessKeyId"),
                    access_key_secret: text("alibabacloud.accessKeySecret"),
                },
            )?,
        )]),
        "aws" => {
            let files = AwsFiles {
                access_key: text("aws.credentials.accessKey"),
                secret_key: text("aws.credentials.secretKey"),
                region: text("aws.region"),
            };
            let mut data = BTreeMap::from([(
                "credentials".to_string(),
                templates::render("external-dns/aws-credentials", &files)?,
            )]);
            if !files.region.is_empty() {
                data.insert(
                    "config".into(),
                    templates::render("external-dns/aws-config", &files)?,
                );
            }
            data
        }
        "azure" => BTreeMap::from([(
            "azure.json".to_string(),
            templates::render(
                "external-dns/azure.json",
                AzureFile {
                    cloud: text("azure.cloud"),
                    tenant_id: text("azure.tenantId"),
                    subscription_id: text("azure.subscriptionId"),
                    resource_group: text("azure.resourceGroup"),
                    managed_identity: dns.set("azure.useManagedIdentityExtension"),
                    aad_client_id: text("azure.aadClientId"),
                    aad_client_secret: text("azure.aadClientSecret"),
                },
            )?,
        )]),
        "azure-private-dns" => entries(&[
            ("azure_aad_client_id", "azure.aadClientId"),
            ("azure_aad_client_secret", "azure.aadClientSecret"),
        ]),
        "google" => entries(&[("credentials.json", "google.serviceAccountKey")]),
        "cloudflare" if dns.set("cloudflare.apiToken") => {
            entries(&[("cloudflare_api_token", "cloudflare.apiToken")])
        }
        "cloudflare" if dns.set("cloudflare.apiKey") => {
            entries(&[("cloudflare_api_key", "cloudflare.apiKey")])
        }
        "cloudflare" => {
            bail!("cloudflare.apiKey is required if cloudflare.apiToken is not provided")
        }
        "designate" => {
            let mut data = BTreeMap::new();
            for (key, path) in [
                ("designate_username", "designate.username"),
                ("designate_password", "designate.password"),
            ] {
                if dns.set(path) {
                    data.insert(key.to_string(), text(path));
                }
            }
            data
        }
        "digitalocean" => entries(&[("digitalocean_api_token", "digitalocean.apiToken")]),
        "infoblox" => entries(&[
            ("infoblox_wapi_username", "infoblox.wapiUsername"),
            ("infoblox_wapi_password", "infoblox.wapiPassword"),
        ]),
        "pdns" => entries(&[("pdns_api_key", "pdns.apiKey")]),
        "rfc2136" => entries(&[("rfc2136_tsig_secret", "rfc2136.tsigSecret")]),
        "transip" => entries(&[("transip-api-key", "transip.apiKey")]),
        "ovh" => entries(&[
            ("ovh_consumer_key", "ovh.consumerKey"),
            ("ovh_application_key", "ovh.applicationKey"),
            ("ovh_application_secret", "ovh.applicationSecret"),
        ]),
        "scaleway" => entries(&[
            ("scw_access_key", "scaleway.scwAccessKey"),
            ("scw_secret_key", "scaleway.scwSecretKey"),
            (
                "scw_default_organization_id",
                "scaleway.scwDefaultOrganizationId",
            ),
        ]),
        "vinyldns" => entries(&[
            ("vinyldns-access-key", "vinyldns.accessKey"),
            ("vinyldns-secret-key", "vinyldns.secretKey"),
        ]),
        _ => BTreeMap::new(),
    })
}
