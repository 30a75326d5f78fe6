//! The embedded defaults (`values.yaml`, `subcharts/*.yaml`), pre-parsed. Reading their 45 KB
//! with the YAML 1.1 loader cost ~10.5 M instructions per process (a quarter of a default
//! render); decoding the loader's own output, committed as compact JSON in
//! `src/values/defaults.json`, costs ~1.2 M, mostly the allocations of the tree itself (which
//! generated Rust statics would need as well). Int vs Float vs String survive exactly: integers
//! are written without and floats with a `.` or exponent (`1.0`), and [`Exact`] reads them so.
//!
//! A committed artifact rather than a build script, because only the crate's own loader may
//! produce it (YAML 1.1 semantics must not drift) and a build script cannot run the crate.
//! Staleness cannot go unnoticed or do harm: the artifact records a hash of its sources (the
//! YAML files and the loader's source text), computed for the embedded ones at compile time; on
//! a mismatch the YAML is parsed instead (slow, never wrong), and the test
//! `committed_defaults_are_current` fails until the artifact is regenerated with
//! `ST2K8S_UPDATE_DEFAULTS=1 cargo test --release --lib committed_defaults_are_current`. The
//! loader's other inputs (saphyr-parser, `merge_user_layer`, `go_float32`) are not hashed: that
//! test alone covers them.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::load::parse_builtin;
use super::{DEFAULTS, Map, SUBCHART_DEFAULTS, Value};
use crate::error::ValuesError;

/// The committed artifact: the loader's output for the embedded defaults, as JSON.
const ARTIFACT: &str = include_str!("defaults.json");

/// FNV-1a (64-bit) over the embedded defaults and the loader's source, evaluated by the compiler:
/// the artifact is used only when it was generated from exactly these sources.
const SOURCES_HASH: u64 = {
    let mut hash = fnv1a(FNV_OFFSET, DEFAULTS.as_bytes());
    let mut i = 0;
    while i < SUBCHART_DEFAULTS.len() {
        hash = fnv1a(hash, SUBCHART_DEFAULTS[i].0.as_bytes());
        hash = fnv1a(hash, SUBCHART_DEFAULTS[i].1.as_bytes());
        i += 1;
    }
    fnv1a(hash, include_str!("load.rs").as_bytes())
};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// One FNV-1a step per byte, then one for the length, so that consecutive texts cannot shift
/// bytes between each other and hash the same.
const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash = (hash ^ bytes[i] as u64).wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    (hash ^ bytes.len() as u64).wrapping_mul(0x0100_0000_01b3)
}

/// The embedded defaults, parsed: the chart's and each bundled backend's (in
/// [`SUBCHART_DEFAULTS`] order).
#[derive(Debug, PartialEq)]
pub(super) struct Defaults {
    pub chart: Map,
    pub subcharts: Vec<(&'static str, Map)>,
}

/// The embedded defaults: decoded from the artifact when it is current, else parsed.
pub(super) fn defaults() -> Result<Defaults, ValuesError> {
    match decode(ARTIFACT) {
        Some(defaults) => Ok(defaults),
        None => parse_yaml(),
    }
}

/// The reference: the embedded YAML read by the YAML loader.
fn parse_yaml() -> Result<Defaults, ValuesError> {
    let chart = parse_builtin(DEFAULTS, "values.yaml (built-in)")?;
    let mut subcharts = Vec::new();
    for (name, text) in SUBCHART_DEFAULTS {
        subcharts.push((
            name,
            parse_builtin(text, &format!("{name} defaults (built-in)"))?,
        ));
    }
    Ok(Defaults { chart, subcharts })
}

/// The artifact's layout.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Artifact {
    sources_hash: u64,
    chart: Exact,
    subcharts: Vec<(String, Exact)>,
}

/// The decoded artifact, or `None` when it does not match the embedded sources (stale) or
/// cannot be read.
fn decode(text: &str) -> Option<Defaults> {
    let artifact: Artifact = serde_json::from_str(text).ok()?;
    if artifact.sources_hash != SOURCES_HASH || artifact.subcharts.len() != SUBCHART_DEFAULTS.len()
    {
        return None;
    }
    let Value::Map(chart) = artifact.chart.0 else {
        return None;
    };
    let subcharts = SUBCHART_DEFAULTS
        .iter()
        .zip(artifact.subcharts)
        .map(|((name, _), (written, values))| match values.0 {
            Value::Map(m) if written == *name => Some((*name, m)),
            _ => None,
        })
        .collect::<Option<_>>()?;
    Some(Defaults { chart, subcharts })
}

/// A [`Value`] read from JSON with its kind kept: JSON integers are `Int`, numbers with a
/// fraction or exponent `Float`.
struct Exact(Value);

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ExactVisitor).map(Exact)
    }
}

struct ExactVisitor;

impl<'de> Visitor<'de> for ExactVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a values tree")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        i64::try_from(u)
            .map(Value::Int)
            .map_err(|_| E::custom("integer out of range"))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(Exact(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some((key, Exact(value))) = access.next_entry::<String, Exact>()? {
            map.insert(key, value);
        }
        Ok(Value::Map(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The artifact for these defaults, as [`decode`] reads it: compact, as it is never read by
    /// people (the YAML is the source) and whitespace costs decoding time.
    fn encode(defaults: &Defaults) -> String {
        let subcharts: Vec<serde_json::Value> = defaults
            .subcharts
            .iter()
            .map(|(name, map)| serde_json::json!([name, exact_map(map)]))
            .collect();
        let artifact = serde_json::json!({
            "sources_hash": SOURCES_HASH,
            "chart": exact_map(&defaults.chart),
            "subcharts": subcharts,
        });
        let mut text = serde_json::to_string(&artifact).unwrap_or_default();
        text.push('\n');
        text
    }

    /// A value as JSON that [`Exact`] reads back identically: unlike [`Value::to_json`], a float
    /// stays a JSON float even when integral (`1.0`).
    fn exact_json(value: &Value) -> serde_json::Value {
        match value {
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::List(l) => l.iter().map(exact_json).collect(),
            Value::Map(m) => exact_map(m),
            other => other.to_json(),
        }
    }

    fn exact_map(map: &Map) -> serde_json::Value {
        serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), exact_json(v)))
                .collect(),
        )
    }

    /// Regenerates the artifact with the YAML loader and compares; with `ST2K8S_UPDATE_DEFAULTS`
    /// set, writes it instead.
    #[test]
    fn committed_defaults_are_current() {
        let fresh = encode(&parse_yaml().unwrap_or_else(|e| panic!("{e}")));
        if std::env::var_os("ST2K8S_UPDATE_DEFAULTS").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/values/defaults.json");
            std::fs::write(path, &fresh).unwrap_or_else(|e| panic!("{path}: {e}"));
            return;
        }
        assert!(
            ARTIFACT == fresh,
            "src/values/defaults.json is stale: run \
             `ST2K8S_UPDATE_DEFAULTS=1 cargo test --release --lib committed_defaults_are_current`"
        );
    }

    /// The decoded artifact is the YAML loader's result, file by file.
    #[test]
    fn decoded_defaults_equal_the_parsed_yaml() {
        let decoded = decode(ARTIFACT).expect("the committed artifact is current");
        let parsed = parse_yaml().unwrap_or_else(|e| panic!("{e}"));
        assert!(decoded.chart == parsed.chart, "values.yaml");
        assert_eq!(decoded.subcharts.len(), parsed.subcharts.len());
        for ((name, got), (want_name, want)) in decoded.subcharts.iter().zip(&parsed.subcharts) {
            assert_eq!(name, want_name);
            assert!(got == want, "subcharts/{name}.yaml");
        }
    }

    /// Kinds survive the round trip exactly: integral floats stay floats, big integers stay
    /// integers, strings that look like numbers stay strings.
    #[test]
    fn round_trip_keeps_every_kind() {
        let yaml = "a: 1\nb: 1.0\nc: '1'\nd: -0.0\ne: 9223372036854775807\nf: -9223372036854775808\n\
                    g: 1e20\nh: 0.1\ni: ~\nj: [yes, 'no', 0755, {}, []]\nk: {\"x.y\": \"t\\u00e9\\\"\\n\"}\n\
                    l: 9223372036854775808\nm: ''\n";
        let chart = parse_builtin(yaml, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
        let defaults = Defaults {
            chart,
            subcharts: SUBCHART_DEFAULTS
                .iter()
                .map(|(name, _)| (*name, Map::new()))
                .collect(),
        };
        let decoded = decode(&encode(&defaults)).expect("decodes");
        assert_eq!(decoded, defaults);
        assert!(matches!(decoded.chart["b"], Value::Float(f) if f == 1.0));
        assert!(matches!(decoded.chart["d"], Value::Float(f) if f.is_sign_negative()));
        assert!(matches!(decoded.chart["l"], Value::Float(_)));
    }

    /// An artifact from other sources, or with other subcharts, is not used.
    #[test]
    fn stale_or_foreign_artifacts_are_refused() {
        let current = encode(&parse_yaml().unwrap_or_else(|e| panic!("{e}")));
        let stale = current.replacen(
            &format!("\"sources_hash\":{SOURCES_HASH},"),
            &format!("\"sources_hash\":{},", SOURCES_HASH ^ 1),
            1,
        );
        assert!(stale != current, "the hash is replaced");
        assert!(decode(&stale).is_none());
        let mut defaults = parse_yaml().unwrap_or_else(|e| panic!("{e}"));
        defaults.subcharts[0].0 = "mongo";
        assert!(decode(&encode(&defaults)).is_none(), "renamed subchart");
        defaults.subcharts.pop();
        assert!(decode(&encode(&defaults)).is_none(), "missing subchart");
        assert!(decode("{}").is_none());
        assert!(decode(&current).is_some());
    }
}
