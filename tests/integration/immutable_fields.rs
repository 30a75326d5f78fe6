//! Data safety for releases moved from Helm: for every golden scenario, the StatefulSet fields
//! Kubernetes refuses to change — `serviceName`, `selector`, `podManagementPolicy`,
//! `volumeClaimTemplates` — must be exactly what the chart renders, so
//! `kubectl apply` patches the running StatefulSets and every PVC is kept.
//!
//! The golden renders live outside the repository (`shared/golden` next to a parent directory,
//! or `$ST2K8S_GOLDEN`); without them the test says so and passes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use st2k8s::release::Release;
use st2k8s::render::{self, Options};
use st2k8s::values::{self, Layer};

/// The immutable spec fields compared, as JSON pointers below the StatefulSet.
const FIELDS: &[&str] = &[
    "/spec/serviceName",
    "/spec/selector",
    "/spec/podManagementPolicy",
    "/spec/volumeClaimTemplates",
];

#[test]
fn statefulset_immutable_fields_match_the_chart() {
    let Some(golden) = golden_dir() else {
        eprintln!(
            "skipped: no golden renders found (set ST2K8S_GOLDEN or put them at ../shared/golden)"
        );
        return;
    };
    let mut problems = Vec::new();
    let mut compared = 0;
    for scenario in scenarios(&golden) {
        let name = scenario
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let expected = match expected_statefulsets(&scenario) {
            Ok(expected) => expected,
            Err(e) => {
                problems.push(format!("{name}: cannot read expected.yaml: {e}"));
                continue;
            }
        };
        if expected.is_empty() {
            continue;
        }
        let actual = match rendered_statefulsets(&scenario) {
            Ok(actual) => actual,
            Err(e) => {
                problems.push(format!("{name}: render failed: {e:#}"));
                continue;
            }
        };
        for (sts, want) in &expected {
            compared += 1;
            let Some(got) = actual.get(sts) else {
                problems.push(format!("{name}: StatefulSet/{sts} is not rendered"));
                continue;
            };
            for field in FIELDS {
                let (want, got) = (immutable(want, field), immutable(got, field));
                if want != got {
                    problems.push(format!(
                        "{name}: StatefulSet/{sts} {field}: expected {want} | actual {got}"
                    ));
                }
            }
        }
    }
    assert!(
        compared > 0 || problems.is_empty(),
        "no StatefulSet found in the golden renders"
    );
    assert!(
        problems.is_empty(),
        "immutable StatefulSet fields differ from the chart:\n{}",
        problems.join("\n")
    );
}

/// `$ST2K8S_GOLDEN`, else the first `shared/golden` found from the crate directory upwards.
fn golden_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ST2K8S_GOLDEN") {
        return Some(PathBuf::from(dir));
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared/golden"))
        .find(|dir| dir.is_dir())
}

/// Scenario directories (those holding an `expected.yaml`), sorted.
fn scenarios(golden: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(golden)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|dir| dir.join("expected.yaml").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// The StatefulSets of `expected.yaml`, by name.
fn expected_statefulsets(scenario: &Path) -> Result<BTreeMap<String, Json>, String> {
    let text =
        std::fs::read_to_string(scenario.join("expected.yaml")).map_err(|e| e.to_string())?;
    let docs: Vec<Json> = serde_saphyr::from_multiple(&text).map_err(|e| e.to_string())?;
    Ok(statefulsets(docs))
}

/// Render the scenario with its release, namespace and values; its StatefulSets by name.
fn rendered_statefulsets(scenario: &Path) -> anyhow::Result<BTreeMap<String, Json>> {
    let meta: Json = match std::fs::read_to_string(scenario.join("scenario.yaml")) {
        Ok(text) => serde_saphyr::from_str(&text)?,
        Err(_) => Json::Null,
    };
    let field = |key: &str, default: &str| {
        meta.get(key)
            .and_then(Json::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let release = Release {
        name: field("release", "st2"),
        namespace: field("namespace", "default"),
    };
    let values_file = scenario.join("values.yaml");
    let layer = Layer::File {
        name: values_file.display().to_string(),
        text: std::fs::read_to_string(&values_file)?,
    };
    let loaded = values::load(&[layer])?;
    let objects = render::render(&loaded.values, &release, &Options::default())?;
    Ok(statefulsets(
        objects
            .into_iter()
            .filter(|o| o.kind == "StatefulSet")
            .map(|o| o.body().clone())
            .collect(),
    ))
}

fn statefulsets(docs: Vec<Json>) -> BTreeMap<String, Json> {
    docs.into_iter()
        .filter(|doc| doc.get("kind").and_then(Json::as_str) == Some("StatefulSet"))
        .filter_map(|doc| Some((doc.pointer("/metadata/name")?.as_str()?.to_string(), doc)))
        .collect()
}

/// A field as the API server compares it: explicit nulls are absent, and a missing
/// `podManagementPolicy` is the default `OrderedReady`.
fn immutable(sts: &Json, field: &str) -> Json {
    match (sts.pointer(field).map(without_nulls), field) {
        (None | Some(Json::Null), "/spec/podManagementPolicy") => {
            Json::String("OrderedReady".into())
        }
        (Some(value), _) => value,
        (None, _) => Json::Null,
    }
}

fn without_nulls(value: &Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}
