//! Helm's merge operations (helm v4.1.4 `pkg/chart/loader.MergeMaps`,
//! `pkg/chart/common/util/coalesce.go`), named as Helm names them.
//!
//! * [`merge_user_layer`] (`MergeMaps`) stacks user layers — `-f` files in order, documents of a
//!   file in order, a `--set-json` object: maps merge key by key, everything else (lists,
//!   scalars, null) replaces. Nulls are kept, because they mean something in the next step.
//! * [`coalesce`] (`CoalesceValues` for one chart) lays the merged user values over a chart's
//!   defaults: maps merge recursively, user lists and scalars replace defaults wholesale, and a
//!   user `null` deletes the default key — the only way to remove a default entry such as
//!   `st2.packs.configs."core.yaml"`. Under an enabled subchart's key nulls survive this step
//!   (the subchart's own coalescing drops them), as Helm does.
//! * [`coalesce_globals`] copies the parent's `global` map into a subchart's values.

use super::{Map, Value};

/// Merge `src` into `dst`; `src` wins, maps merge recursively, nulls are kept.
pub fn merge_user_layer(dst: &mut Map, src: Map) {
    for (key, value) in src {
        match (dst.get_mut(&key), value) {
            (Some(Value::Map(d)), Value::Map(s)) => merge_user_layer(d, s),
            (_, value) => {
                dst.insert(key, value);
            }
        }
    }
}

/// Lay `user` over one chart's `defaults` (Helm's `coalesceValues`). At the top level a user null
/// removes the key whenever the chart has it; `subcharts` are the keys of enabled subcharts, whose
/// maps merge keeping nulls.
pub fn coalesce(user: Map, defaults: &Map, subcharts: &[&str]) -> Map {
    let mut out = user;
    for (key, default) in defaults {
        match out.get_mut(key) {
            None => {
                out.insert(key.clone(), default.clone());
            }
            Some(Value::Null) => {
                out.remove(key);
            }
            Some(Value::Map(u)) => {
                if let Value::Map(d) = default {
                    coalesce_tables(u, d, subcharts.contains(&key.as_str()));
                }
            }
            Some(_) => {}
        }
    }
    out
}

/// Helm's `coalesceTablesFullKey` below the top level: `dst` (user) wins; a user null deletes a
/// non-null default unless `keep_nulls`; a null over a null default, or with no default, stays.
fn coalesce_tables(dst: &mut Map, defaults: &Map, keep_nulls: bool) {
    for (key, default) in defaults {
        match dst.get_mut(key) {
            None => {
                dst.insert(key.clone(), default.clone());
            }
            Some(Value::Null) if !keep_nulls && !default.is_null() => {
                dst.remove(key);
            }
            Some(Value::Map(u)) => {
                if let Value::Map(d) = default {
                    coalesce_tables(u, d, keep_nulls);
                }
            }
            Some(_) => {}
        }
    }
}

/// Helm's `coalesceGlobals`: the parent's `global` entries override the subchart's (maps merge,
/// the parent's side winning); a non-map `global` on either side is left alone.
pub fn coalesce_globals(subchart: &mut Map, parent_global: Option<&Value>) {
    let parent = match parent_global {
        None => Map::new(),
        Some(Value::Map(m)) => m.clone(),
        Some(_) => return,
    };
    let mut global = match subchart.remove("global") {
        None => Map::new(),
        Some(Value::Map(m)) => m,
        Some(other) => {
            subchart.insert("global".into(), other);
            return;
        }
    };
    for (key, value) in parent {
        match (value, global.get(&key)) {
            (Value::Map(mut p), Some(Value::Map(sub))) => {
                coalesce_tables(&mut p, sub, true);
                global.insert(key, Value::Map(p));
            }
            (Value::Map(_), Some(_)) => {}
            (_, Some(Value::Map(_))) => {}
            (value, _) => {
                global.insert(key, value);
            }
        }
    }
    subchart.insert("global".into(), Value::Map(global));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse_document;

    fn map(text: &str) -> Map {
        parse_document(text, "t.yaml")
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .0
    }

    /// `(chart defaults, user values, enabled subchart keys, result)` — Helm's coalescing rules
    /// (maps deep-merge, lists and scalars replace, a user `null` deletes), one row per rule.
    const COALESCE: &[(&str, &str, &[&str], &str)] = &[
        // maps deep-merge, lists and scalars replace
        (
            "{a: {b: 1, c: 2}, l: [1, 2], s: x}",
            "{a: {c: 3}, l: [9]}",
            &[],
            "{a: {b: 1, c: 3}, l: [9], s: x}",
        ),
        (
            "{a: {b: {c: {d: 1, e: 2}}}}",
            "{a: {b: {c: {e: 3, f: 4}}}}",
            &[],
            "{a: {b: {c: {d: 1, e: 3, f: 4}}}}",
        ),
        (
            "{l: [{a: 1}, {b: 2}]}",
            "{l: [{c: 3}]}",
            &[],
            "{l: [{c: 3}]}",
        ),
        ("{l: [1, 2]}", "{l: []}", &[], "{l: []}"),
        ("{s: x}", "{s: ''}", &[], "{s: ''}"),
        ("{a: {b: 1}}", "{a: {}}", &[], "{a: {b: 1}}"),
        // `resources` merge with the defaults: user limits + default requests
        (
            "st2web: {resources: {requests: {memory: 50Mi, cpu: 5m}, limits: {memory: 100Mi}}}",
            "st2web: {resources: {limits: {cpu: 1}}}",
            &[],
            "st2web: {resources: {requests: {memory: 50Mi, cpu: 5m}, limits: {memory: 100Mi, cpu: 1}}}",
        ),
        (
            "st2web: {resources: {requests: {memory: 50Mi}}}",
            "st2web: {resources: {}}",
            &[],
            "st2web: {resources: {requests: {memory: 50Mi}}}",
        ),
        // an explicit null deletes a default key, at the top and nested
        (
            "{configs: {core.yaml: x, other.yaml: y}}",
            "{configs: {core.yaml: null}}",
            &[],
            "{configs: {other.yaml: y}}",
        ),
        ("{a: 1, b: 2}", "{a: null}", &[], "{b: 2}"),
        ("{a: {b: 1}, c: 2}", "{a: null}", &[], "{c: 2}"),
        ("{a: {b: {c: 1}}}", "{a: {b: null}}", &[], "{a: {}}"),
        // a null with nothing (or null) to delete stays a null key, as in Helm
        ("{a: {b: null}}", "{a: {b: null}}", &[], "{a: {b: null}}"),
        ("{a: {b: 1}}", "{a: {z: null}}", &[], "{a: {b: 1, z: null}}"),
        ("{a: 1}", "{z: null}", &[], "{a: 1, z: null}"),
        ("{a: null}", "{a: null}", &[], "{}"),
        // user maps replace default scalars and the other way round
        ("{a: 1}", "{a: {x: 1}}", &[], "{a: {x: 1}}"),
        ("{a: {x: 1}}", "{a: 1}", &[], "{a: 1}"),
        ("{a: {x: 1}}", "{a: [1]}", &[], "{a: [1]}"),
        // under an enabled subchart's key nulls survive (the subchart's own defaults drop them)
        (
            "{mongodb: {auth: {rootPassword: x}, a: 1}}",
            "{mongodb: {auth: {rootPassword: null}}}",
            &["mongodb"],
            "{mongodb: {auth: {rootPassword: null}, a: 1}}",
        ),
        (
            "{mongodb: {auth: {rootPassword: x}}}",
            "{mongodb: {auth: {rootPassword: null}}}",
            &[],
            "{mongodb: {auth: {}}}",
        ),
    ];

    #[test]
    fn coalesce_rows() {
        for (defaults, user, subcharts, want) in COALESCE {
            let got = coalesce(map(user), &map(defaults), subcharts);
            assert_eq!(got, map(want), "user {user} over defaults {defaults}");
        }
    }

    #[test]
    fn null_spelled_every_way_deletes() {
        for null in ["null", "Null", "NULL", "~", ""] {
            let out = coalesce(map(&format!("a: {null}\n")), &map("a: 1\nb: 2\n"), &[]);
            assert_eq!(out, map("b: 2\n"), "{null}");
        }
    }

    /// `(values so far, next layer, result)` — Helm's `MergeMaps`.
    const LAYERS: &[(&str, &str, &str)] = &[
        (
            "{a: {b: 1, c: 2}}",
            "{a: {c: null, d: 4}}",
            "{a: {b: 1, c: null, d: 4}}",
        ),
        ("{a: [1, 2]}", "{a: [3]}", "{a: [3]}"),
        ("{a: {b: 1}}", "{a: 2}", "{a: 2}"),
        ("{a: 2}", "{a: {b: 1}}", "{a: {b: 1}}"),
        ("{a: {b: 1}}", "{a: null}", "{a: null}"),
        ("{a: {b: 1}}", "{}", "{a: {b: 1}}"),
    ];

    #[test]
    fn later_user_layers_win_and_keep_nulls() {
        for (acc, layer, want) in LAYERS {
            let mut got = map(acc);
            merge_user_layer(&mut got, map(layer));
            assert_eq!(got, map(want), "{layer} over {acc}");
        }
    }

    /// `(parent's global, subchart section, result)` — Helm's `coalesceGlobals`.
    const GLOBALS: &[(&str, &str, &str)] = &[
        ("{}", "{a: 1}", "{a: 1, global: {}}"),
        (
            "{global: {imageRegistry: reg}}",
            "{global: {imageRegistry: other, x: 1}}",
            "{global: {imageRegistry: reg, x: 1}}",
        ),
        (
            "{global: {m: {a: 1}}}",
            "{global: {m: {a: 2, b: 2}}}",
            "{global: {m: {a: 1, b: 2}}}",
        ),
        (
            "{global: {m: {a: 1}}}",
            "{global: {m: 5}}",
            "{global: {m: 5}}",
        ),
        (
            "{global: {s: 1}}",
            "{global: {s: {a: 1}}}",
            "{global: {s: {a: 1}}}",
        ),
        ("{global: 5}", "{a: 1}", "{a: 1}"),
        ("{global: {a: 1}}", "{global: 5}", "{global: 5}"),
    ];

    #[test]
    fn globals_flow_into_subcharts() {
        for (parent, section, want) in GLOBALS {
            let parent = map(parent);
            let mut got = map(section);
            coalesce_globals(&mut got, parent.get("global"));
            assert_eq!(got, map(want), "{parent:?} into {section}");
        }
    }

    #[test]
    fn coalesce_leaves_defaults_untouched() {
        let defaults = map("a: {b: 1}\n");
        let before = defaults.clone();
        let _ = coalesce(map("a: {b: null}\n"), &defaults, &[]);
        assert_eq!(defaults, before);
    }
}
