//! The values tree: what Helm calls `.Values`, after loading and merging.
//!
//! [`Value`] mirrors what Helm holds after reading YAML 1.1 into Go types: maps with string keys
//! (iterated in key order, as Go templates do), lists, strings, booleans, numbers and null.
//! Builders read it through the helpers here, which reproduce the template functions the chart
//! relies on (`default`, truthiness, `%v` printing) in one place.

pub mod go_yaml;
mod load;
mod merge;
mod set;

use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use go_yaml::to_go_yaml;
pub use load::{Origins, parse_document};
pub use merge::{coalesce, merge_user_layer};
pub use set::{SetKind, apply_set};

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

static NULL: Value = Value::Null;

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
                let items: Vec<String> =
                    m.iter().map(|(k, v)| format!("{k}:{}", v.to_go_string())).collect();
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
            Value::Map(m) => serde_json::Value::Object(
                m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
            ),
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
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return "0".into();
    }
    // Shortest round-trip digits via Rust's exponent formatting.
    let sci = format!("{f:e}");
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
}

/// The built-in defaults: the chart's `values.yaml`.
pub const DEFAULTS: &str = include_str!("../../values.yaml");

/// Defaults of the bundled backends, merged under their key only when that backend is enabled
/// (as Helm does for enabled subcharts).
const SUBCHART_DEFAULTS: [(&str, &str); 4] = [
    ("mongodb", include_str!("../../subcharts/mongodb.yaml")),
    ("rabbitmq", include_str!("../../subcharts/rabbitmq.yaml")),
    ("redis", include_str!("../../subcharts/redis.yaml")),
    ("external-dns", include_str!("../../subcharts/external-dns.yaml")),
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
    pub origins: Origins,
}

/// Load the defaults, stack the user layers over them and merge enabled backends' defaults.
pub fn load(layers: &[Layer]) -> Result<Loaded, ValuesError> {
    let mut user = Map::new();
    let mut origins = Origins::default();
    for layer in layers {
        match layer {
            Layer::File { name, text } => {
                let (map, o) = parse_document(text, name)?;
                merge_user_layer(&mut user, map);
                origins.extend(o);
            }
            Layer::Set { kind, arg } => apply_set(&mut user, *kind, arg)?,
        }
    }
    let (defaults, _) = parse_document(DEFAULTS, "values.yaml (built-in)")?;
    let mut merged = coalesce(user, &defaults);
    for (name, text) in SUBCHART_DEFAULTS {
        let enabled = merged.get(name).is_some_and(|v| v.key("enabled").truthy());
        if !enabled {
            continue;
        }
        let (sub_defaults, _) = parse_document(text, &format!("{name} defaults (built-in)"))?;
        let parent = match merged.remove(name) {
            Some(Value::Map(m)) => m,
            _ => Map::new(),
        };
        merged.insert(name.to_string(), Value::Map(coalesce(parent, &sub_defaults)));
    }
    Ok(Loaded {
        values: Value::Map(merged),
        origins,
    })
}

use crate::error::ValuesError;
