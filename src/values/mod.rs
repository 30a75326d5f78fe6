//! The values tree: what Helm calls `.Values`, after loading and merging.
//!
//! [`Value`] mirrors what Helm holds after reading YAML 1.1 into Go types: maps with string keys
//! (iterated in key order, as Go templates do), lists, strings, booleans, numbers and null.
//! Builders read it through the helpers here, which reproduce the template functions the chart
//! relies on (`default`, truthiness, `%v` printing) in one place.

pub mod check;
pub mod go_yaml;
mod load;
mod merge;
mod prebuilt;
pub mod schema;
mod set;
pub mod types;
pub mod view;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

pub use go_yaml::to_go_yaml;
pub use load::{Origins, TEXT_FILE_DIRS, parse_document, read_text};
pub use merge::{coalesce, coalesce_globals, merge_user_layer};
pub use set::{MAX_CREATED_ITEMS, SetArg, SetKind, apply_set};
pub use view::{Reads, View};

/// A map of values; Go templates iterate maps in key order, so a sorted map is the faithful model.
pub type Map = BTreeMap<String, Value>;

/// One node of the values tree.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<Value>),
    Map(Map),
}

pub(crate) static NULL: Value = Value::Null;

impl Value {
    /// The value at a dotted path (`st2web.service.type`); `None` when any step is missing or not a map.
    pub fn get(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(self, |node, key| match node {
            Value::Map(m) => m.get(key),
            _ => None,
        })
    }

    /// Like [`Value::get`], but a missing path reads as null (what a Go template sees).
    pub fn at(&self, path: &str) -> &Value {
        self.get(path).unwrap_or(&NULL)
    }

    /// A child of a map by its literal key (keys may contain dots, e.g. `external-dns` or `core.yaml`).
    pub fn key(&self, key: &str) -> &Value {
        match self {
            Value::Map(m) => m.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Go template truthiness: false, 0, "", null, empty lists and maps are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
        }
    }

    /// Go's `default`: `self` if truthy, else `fallback`.
    pub fn or<'a>(&'a self, fallback: &'a Value) -> &'a Value {
        if self.truthy() { self } else { fallback }
    }

    /// `Some(self)` when truthy, for `if`-style emission.
    pub fn non_empty(&self) -> Option<&Value> {
        self.truthy().then_some(self)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> &[Value] {
        match self {
            Value::List(l) => l,
            _ => &[],
        }
    }

    /// Map entries (empty for anything that is not a map), in key order.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.as_map().into_iter().flat_map(|m| m.iter())
    }

    /// The value as a template interpolates it (`{{ .Values.x }}`, `quote`, `toString` of a
    /// missing key): [`Value::to_go_string`], except that null prints nothing.
    pub fn to_go_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            other => other.to_go_string(),
        }
    }

    /// The kind of the value as a noun phrase (`a string`, `a number`): what error messages say
    /// instead of the value itself, since any value may be a secret.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Map(_) => "a map",
            Value::List(_) => "a list",
            Value::String(_) => "a string",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
        }
    }

    /// [`Value::kind`] for a value of the right kind but the wrong content (`a number that does
    /// not fit`), the kind alone for a map, a list or null.
    pub fn kind_unfit(&self) -> String {
        match self {
            Value::String(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                format!("{} that does not fit", self.kind())
            }
            other => other.kind().to_string(),
        }
    }

    /// The value as Go's `%v` / `toString` prints it, except that integers always print in full
    /// (Helm would print `1e+06`; st2k8s keeps integers readable). Fractions follow [`go_float`],
    /// null prints as `<nil>`, booleans as `true`/`false`.
    pub fn to_go_string(&self) -> String {
        match self {
            Value::Null => "<nil>".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => go_float(*f),
            Value::String(s) => s.clone(),
            Value::List(l) => {
                let items: Vec<String> = l.iter().map(Value::to_go_string).collect();
                format!("[{}]", items.join(" "))
            }
            Value::Map(m) => {
                let items: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{k}:{}", v.to_go_string()))
                    .collect();
                format!("map[{}]", items.join(" "))
            }
        }
    }

    /// The value as JSON, for embedding user-supplied blocks into Kubernetes objects (`toYaml` pass-through).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Float(f) => float_to_json(*f),
            Value::String(s) => s.clone().into(),
            Value::List(l) => l.iter().map(Value::to_json).collect(),
            Value::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

/// Integral floats become JSON integers (Helm's `toYaml` prints float64 `3` as `3`).
fn float_to_json(f: f64) -> serde_json::Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        serde_json::Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// Go's `%v` formatting of a float64: shortest representation, exponent form from 1e6 and
/// below 1e-4 (`strconv.FormatFloat(f, 'g', -1, 64)` rules, as `fmt` uses them for `%v`).
pub fn go_float(f: f64) -> String {
    go_g(
        f.is_nan(),
        f.is_infinite(),
        f == 0.0,
        f > 0.0,
        format!("{f:e}"),
    )
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`: how Helm turns a float map key into a string.
pub fn go_float32(f: f32) -> String {
    go_g(
        f.is_nan(),
        f.is_infinite(),
        f == 0.0,
        f > 0.0,
        format!("{f:e}"),
    )
}

/// The `'g'`-with-shortest-precision layout shared by [`go_float`] and [`go_float32`], from
/// the shortest round-trip digits in Rust's exponent form (`sci`).
fn go_g(nan: bool, infinite: bool, zero: bool, positive: bool, sci: String) -> String {
    if nan {
        return "NaN".into();
    }
    if infinite {
        return if positive {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if zero {
        return "0".into();
    }
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // %v uses %g with the shortest precision: exponent form when exp < -4 || exp >= 6.
    if !(-4..6).contains(&exp) {
        let mut out = mantissa.to_string();
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exp.abs());
        return out;
    }
    let (neg, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest.replace('.', "")),
        None => (false, mantissa.replace('.', "")),
    };
    let point = exp + 1; // position of the decimal point relative to the digits
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(&digits);
    } else if point as usize >= digits.len() {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_matches_go_percent_v() {
        for (f, want) in [
            (3.0, "3"),
            (1.5, "1.5"),
            (1e6, "1e+06"),
            (12345678.0, "1.2345678e+07"),
            (999999.0, "999999"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
        ] {
            assert_eq!(go_float(f), want, "{f}");
        }
    }

    fn file(text: &str) -> Layer {
        Layer::File {
            name: "custom.yaml".into(),
            text: text.into(),
        }
    }

    fn set(kind: SetKind, arg: &str) -> Layer {
        Layer::Set {
            kind,
            arg: arg.into(),
        }
    }

    fn load_values(layers: &[Layer]) -> Value {
        load(layers).unwrap_or_else(|e| panic!("{e}")).values
    }

    /// Layers apply in the order given (`config::read_layers` puts them in Helm's order); each
    /// later layer overrides, maps merge, and values files may be extended by `--set`.
    #[test]
    fn layers_stack_in_order() {
        let v = load_values(&[
            file("st2web: {replicas: 2, service: {type: NodePort}}\n"),
            file("st2web:\n  replicas: 4\n"),
            set(SetKind::Json, "st2web.replicas=5"),
            set(SetKind::Set, "st2web.replicas=6,st2web.annotations.a=true"),
            set(SetKind::String, "st2web.annotations.a=true"),
        ]);
        assert_eq!(v.at("st2web.replicas"), &Value::Int(6));
        assert_eq!(
            v.at("st2web.service.type"),
            &Value::String("NodePort".into())
        );
        assert_eq!(v.at("st2web.annotations.a"), &Value::String("true".into()));
        // untouched defaults survive next to user keys
        assert!(v.get("st2web.resources.requests").is_some());
    }

    #[test]
    fn user_null_removes_a_default_entry() {
        let v = load_values(&[set(SetKind::Set, r"st2.packs.configs.core\.yaml=null")]);
        assert!(v.get("st2.packs.configs").is_some());
        assert!(
            v.get("st2.packs.configs")
                .and_then(|c| c.as_map())
                .is_some_and(|c| !c.contains_key("core.yaml"))
        );
        let v = load_values(&[file("st2:\n  packs:\n    configs:\n      core.yaml: ~\n")]);
        assert!(
            v.at("st2.packs.configs")
                .as_map()
                .is_some_and(|c| !c.contains_key("core.yaml"))
        );
    }

    /// Subcharts: defaults merge under enabled backends only; "enabled" is anything but `false`
    /// after coalescing (helm v4.1.4 behaviour, checked with real helm).
    #[test]
    fn subchart_defaults_and_conditions() {
        let v = load_values(&[]);
        assert_eq!(
            v.at("mongodb.image.tag"),
            &Value::String("4.4".into()),
            "parent overrides subchart default"
        );
        assert_eq!(
            v.at("mongodb.image.repository"),
            &Value::String("bitnami/mongodb".into()),
            "subchart default"
        );
        assert!(
            v.get("external-dns.image").is_none(),
            "disabled: no subchart defaults"
        );
        assert!(
            v.get("mongodb.global")
                .is_some_and(|g| g.as_map().is_some()),
            "global is always a map in subcharts"
        );

        let v = load_values(&[set(SetKind::Set, "mongodb.enabled=false")]);
        assert!(v.get("mongodb.image.repository").is_none());
        // null is not `false`: Helm keeps the subchart enabled
        let v = load_values(&[set(SetKind::Set, "external-dns.enabled=null")]);
        assert!(v.get("external-dns.image").is_some());
        // a null subchart section loses the parent's overrides but keeps the subchart
        let v = load_values(&[set(SetKind::Set, "mongodb=null")]);
        assert_eq!(
            v.at("mongodb.image.tag"),
            &Value::String("4.4.1-debian-10-r61".into())
        );
        // a null under an enabled subchart deletes the subchart's default too
        let v = load_values(&[set(SetKind::Set, "mongodb.image.registry=null")]);
        assert!(v.get("mongodb.image.registry").is_none());
        assert!(v.get("mongodb.image.repository").is_some());
        // the parent's global reaches every enabled subchart
        let v = load_values(&[set(SetKind::Set, "global.imageRegistry=reg.example")]);
        for sub in ["mongodb", "rabbitmq", "redis"] {
            assert_eq!(
                v.at(&format!("{sub}.global.imageRegistry")),
                &Value::String("reg.example".into()),
                "{sub}"
            );
        }
    }

    /// [`load`] as Helm spells it out: the first coalescing over all the values, with every
    /// subchart, to decide which are enabled.
    fn load_by_full_coalescing(layers: &[Layer]) -> Result<Value, String> {
        let (user, origins) = user_values(layers).map_err(|e| e.to_string())?;
        let builtin = parsed_defaults().map_err(|e| e.to_string())?;
        let defaults = &builtin.defaults.chart;
        let mut subcharts: Vec<(&str, &Map)> = builtin
            .defaults
            .subcharts
            .iter()
            .map(|(n, m)| (*n, m))
            .collect();
        let all = coalesce_chart(user.clone(), defaults, &subcharts, &origins)
            .map_err(|e| e.to_string())?;
        subcharts.retain(|(name, _)| {
            !matches!(
                all.get(*name).map(|v| v.key("enabled")),
                Some(Value::Bool(false))
            )
        });
        coalesce_chart(user, defaults, &subcharts, &origins)
            .map(Value::Map)
            .map_err(|e| e.to_string())
    }

    /// Deciding on the `enabled` switches alone ([`enabled_subcharts`]) enables what coalescing
    /// everything enables, so the values and errors are the same. `(layers, enabled subcharts)`.
    #[test]
    fn subcharts_enabled_as_full_coalescing_decides() {
        use SetKind::{Json, Set, String as Str};
        const DEFAULT: &[&str] = &["mongodb", "rabbitmq", "redis"];
        const ALL: &[&str] = &["mongodb", "rabbitmq", "redis", "external-dns"];
        let rows: Vec<(Vec<Layer>, &[&str])> = vec![
            (vec![], DEFAULT),
            (
                vec![set(Set, "mongodb.enabled=false")],
                &["rabbitmq", "redis"],
            ),
            (vec![set(Set, "mongodb.enabled=null")], DEFAULT),
            (vec![set(Set, "mongodb=null")], DEFAULT),
            (vec![set(Str, "redis.enabled=false")], DEFAULT),
            (vec![set(Set, "redis.enabled=0")], DEFAULT),
            (vec![set(Json, "mongodb.enabled={\"a\":false}")], DEFAULT),
            (vec![set(Set, "external-dns.enabled=true")], ALL),
            (vec![set(Set, "external-dns.enabled=null")], ALL),
            (vec![set(Set, "external-dns=null")], ALL),
            (vec![file("external-dns: {provider: google}\n")], DEFAULT),
            (
                vec![file(
                    "rabbitmq: {enabled: no, replicaCount: 3}\nglobal: {enabled: false}\n",
                )],
                &["mongodb", "redis"],
            ),
            (
                vec![file("redis:\n  enabled: ~\n  global: {x: 1}\n")],
                DEFAULT,
            ),
            (
                vec![
                    file("mongodb: {enabled: false}\n"),
                    set(Set, "mongodb.enabled=true,redis.enabled=false"),
                ],
                &["mongodb", "rabbitmq"],
            ),
            (
                vec![set(
                    Set,
                    "mongodb.enabled=false,rabbitmq.enabled=false,redis.enabled=false",
                )],
                &[],
            ),
        ];
        for (layers, want) in rows {
            let loaded = load(&layers).unwrap_or_else(|e| panic!("{layers:?}: {e}"));
            assert_eq!(
                Ok(&loaded.values),
                load_by_full_coalescing(&layers).as_ref(),
                "{layers:?}"
            );
            let builtin = parsed_defaults().unwrap_or_else(|e| panic!("{e}"));
            let (user, origins) = user_values(&layers).unwrap_or_else(|e| panic!("{e}"));
            let enabled = enabled_subcharts(&user, builtin, &origins)
                .unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>();
            assert_eq!(enabled, want, "{layers:?}");
        }
        for layers in [
            vec![file("mongodb: [1]\n")],
            vec![file("external-dns: off\n")],
            vec![file("redis: {enabled: false}\nexternal-dns: x\n")],
        ] {
            let err = load(&layers).expect_err("a subchart section must be a map");
            assert_eq!(
                Err(err.to_string()),
                load_by_full_coalescing(&layers),
                "{layers:?}"
            );
        }
    }

    #[test]
    fn a_subchart_section_must_be_a_map() {
        let err =
            load(&[file("external-dns: 5\n")]).expect_err("Helm: type mismatch on external-dns");
        assert_eq!(
            err.to_string(),
            "custom.yaml:1:1: `external-dns`: must be a map: it configures the bundled external-dns chart"
        );
    }
}

/// The built-in defaults: the chart's `values.yaml`. Loading reads its pre-parsed form
/// ([`prebuilt`]); the text serves `st2k8s values`, the schema and the staleness check.
pub const DEFAULTS: &str = include_str!("../../values.yaml");

/// Defaults of the bundled backends, merged under their key only when that backend is enabled
/// (as Helm does for enabled subcharts).
const SUBCHART_DEFAULTS: [(&str, &str); 4] = [
    ("mongodb", include_str!("../../subcharts/mongodb.yaml")),
    ("rabbitmq", include_str!("../../subcharts/rabbitmq.yaml")),
    ("redis", include_str!("../../subcharts/redis.yaml")),
    (
        "external-dns",
        include_str!("../../subcharts/external-dns.yaml"),
    ),
];

/// One user-supplied layer source, in the order Helm applies them.
#[derive(Debug, Clone)]
pub enum Layer {
    /// A `-f` file (`-` = stdin), with its text already read.
    File { name: String, text: String },
    /// A `--set`-family flag argument.
    Set { kind: SetKind, arg: String },
}

/// The merged values and where user keys came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub values: Value,
    /// The user's layers stacked, before the defaults: the keys the user set.
    pub user: Value,
    pub origins: Origins,
    /// Problems in the user's values: unknown keys (typos) and values of the wrong type.
    pub findings: Vec<check::Finding>,
}

/// The embedded defaults, parsed once per process: every [`load`] (and [`builtin`]) shares them.
struct Builtin {
    defaults: prebuilt::Defaults,
    /// The same defaults cut down to the subcharts' `enabled` switches: all that decides which
    /// subcharts are enabled ([`enabled_subcharts`]).
    switches: prebuilt::Defaults,
}

/// The embedded defaults and their switches, built on first use.
fn parsed_defaults() -> Result<&'static Builtin, ValuesError> {
    static PARSED: OnceLock<Result<Builtin, String>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            let defaults = prebuilt::defaults().map_err(|e| e.to_string())?;
            let chart = switches(&defaults.chart, &defaults.subcharts);
            let subcharts = defaults
                .subcharts
                .iter()
                .map(|(name, m)| (*name, only_enabled(m)))
                .collect();
            Ok(Builtin {
                switches: prebuilt::Defaults { chart, subcharts },
                defaults,
            })
        })
        .as_ref()
        .map_err(|e| builtin_error(e))
}

/// The subchart sections of `values` cut down to their `enabled` entries; a section that is not
/// a map is kept whole (coalescing reports it).
fn switches(values: &Map, subcharts: &[(&'static str, Map)]) -> Map {
    subcharts
        .iter()
        .filter_map(|(name, _)| {
            let section = match values.get(*name)? {
                Value::Map(m) => Value::Map(only_enabled(m)),
                other => other.clone(),
            };
            Some((name.to_string(), section))
        })
        .collect()
}

/// A map's `enabled` entry alone.
fn only_enabled(map: &Map) -> Map {
    map.get("enabled")
        .map(|enabled| ("enabled".to_string(), enabled.clone()))
        .into_iter()
        .collect()
}

/// A failure of the built-in defaults, kept as text: the cached error is reported again to every
/// caller (it cannot happen with the tested embedded files, but must not panic either).
fn builtin_error(message: &str) -> ValuesError {
    ValuesError::Invalid {
        path: "(built-in defaults)".into(),
        location: None,
        message: message.to_string(),
    }
}

/// The built-in defaults alone, merged as [`load`] without user layers would: computed once per
/// process, for callers that compare user values against the defaults.
pub fn builtin() -> Result<&'static Value, ValuesError> {
    static BUILTIN: OnceLock<Result<Value, String>> = OnceLock::new();
    BUILTIN
        .get_or_init(|| {
            load(&[])
                .map(|loaded| loaded.values)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| builtin_error(e))
}

/// Load the defaults, stack the user layers over them and merge enabled backends' defaults.
pub fn load(layers: &[Layer]) -> Result<Loaded, ValuesError> {
    let (user, origins) = user_values(layers)?;
    let builtin = parsed_defaults()?;
    let defaults = &builtin.defaults.chart;
    let mut findings = check::unknown_keys(&user, defaults, &origins);
    findings.extend(types::wrong_types(&user, defaults, &origins));
    let subcharts = enabled_subcharts(&user, builtin, &origins)?;
    let user_tree = Value::Map(user.clone());
    let merged = coalesce_chart(user, defaults, &subcharts, &origins)?;
    Ok(Loaded {
        values: Value::Map(merged),
        user: user_tree,
        origins,
        findings,
    })
}

/// The user layers stacked in order (Helm's `MergeMaps`), and where their keys were written.
fn user_values(layers: &[Layer]) -> Result<(Map, Origins), ValuesError> {
    let mut user = Map::new();
    let mut origins = Origins::default();
    // Arguments per flag so far, to number them in messages; list items created by padding.
    let mut numbers: std::collections::HashMap<SetKind, usize> = std::collections::HashMap::new();
    let mut created = 0;
    for layer in layers {
        match layer {
            Layer::File { name, text } => {
                let (map, o) = parse_document(text, name)?;
                merge_user_layer(&mut user, map);
                origins.extend(o);
            }
            Layer::Set { kind, arg } => {
                let number = numbers.entry(*kind).or_default();
                *number += 1;
                let arg = SetArg {
                    kind: *kind,
                    number: *number,
                    text: arg,
                };
                apply_set(&mut user, arg, &mut created)?;
            }
        }
    }
    Ok((user, origins))
}

/// The bundled subcharts Helm enables for these user values, with their defaults.
///
/// Helm decides which subcharts are enabled on values coalesced with every subchart, then
/// coalesces again with the enabled ones only (`processDependencyEnabled`, then
/// `ToRenderValues`). A subchart is dropped only when `<name>.enabled` is exactly `false`. That
/// coalesced `<name>.enabled` depends on nothing but the `enabled` entries of the user's, the
/// chart's and the subchart's `<name>` maps (and on the user's `<name>` being a map at all, else
/// coalescing fails), so the first coalescing runs on those entries alone: the same code, on a
/// few keys instead of two full copies of the values.
fn enabled_subcharts<'a>(
    user: &Map,
    builtin: &'a Builtin,
    origins: &Origins,
) -> Result<Vec<(&'static str, &'a Map)>, ValuesError> {
    let probe = switches(user, &builtin.defaults.subcharts);
    let all_subcharts: Vec<(&str, &Map)> = builtin
        .switches
        .subcharts
        .iter()
        .map(|(n, m)| (*n, m))
        .collect();
    let all = coalesce_chart(probe, &builtin.switches.chart, &all_subcharts, origins)?;
    Ok(builtin
        .defaults
        .subcharts
        .iter()
        .filter(|(name, _)| {
            !matches!(
                all.get(*name).map(|v| v.key("enabled")),
                Some(Value::Bool(false))
            )
        })
        .map(|(name, m)| (*name, m))
        .collect())
}

/// Helm's `CoalesceValues` for the parent chart and the given subcharts: the user values over the
/// parent's defaults, then each subchart's section over that subchart's defaults, with the
/// parent's `global` copied in.
fn coalesce_chart(
    user: Map,
    defaults: &Map,
    subcharts: &[(&str, &Map)],
    origins: &Origins,
) -> Result<Map, ValuesError> {
    let names: Vec<&str> = subcharts.iter().map(|(name, _)| *name).collect();
    let mut merged = coalesce(user, defaults, &names);
    for (name, sub_defaults) in subcharts {
        let mut section = match merged.remove(*name) {
            None => Map::new(),
            Some(Value::Map(m)) => m,
            Some(_) => {
                return Err(ValuesError::Invalid {
                    path: name.to_string(),
                    location: origins.get(name).cloned(),
                    message: format!("must be a map: it configures the bundled {name} chart"),
                });
            }
        };
        coalesce_globals(&mut section, merged.get("global"));
        merged.insert(
            name.to_string(),
            Value::Map(coalesce(section, sub_defaults, &[])),
        );
    }
    Ok(merged)
}

use crate::error::ValuesError;
