//! Helm's two merge operations, named as Helm names them.
//!
//! * [`merge_user_layer`] (Helm's `MergeMaps`) stacks user layers — `-f` files in order, then
//!   `--set` flags: maps merge key by key, everything else (lists, scalars, null) replaces.
//!   Nulls are kept, because they mean something in the next step.
//! * [`coalesce`] (Helm's `CoalesceTables`) lays the merged user values over the chart defaults:
//!   maps merge recursively, user lists and scalars replace defaults wholesale, and a user `null`
//!   deletes the default key — the only way to remove a default entry such as
//!   `st2.packs.configs."core.yaml"`.

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

/// Lay `user` over `defaults` and return the result (Helm's coalescing of user values with chart
/// defaults). A user null removes the key.
pub fn coalesce(user: Map, defaults: &Map) -> Map {
    let mut out = Map::new();
    for (key, default) in defaults {
        match user.get(key) {
            None => {
                out.insert(key.clone(), default.clone());
            }
            Some(Value::Null) => {}
            Some(Value::Map(u)) => match default {
                Value::Map(d) => {
                    out.insert(key.clone(), Value::Map(coalesce(u.clone(), d)));
                }
                _ => {
                    out.insert(key.clone(), Value::Map(u.clone()));
                }
            },
            Some(other) => {
                out.insert(key.clone(), other.clone());
            }
        }
    }
    for (key, value) in user {
        if !defaults.contains_key(&key) {
            out.insert(key, value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse_document;

    fn map(text: &str) -> Map {
        parse_document(text, "t.yaml").expect("parses").0
    }

    #[test]
    fn maps_merge_lists_and_scalars_replace() {
        let defaults = map("a: {b: 1, c: 2}\nl: [1, 2]\ns: x\n");
        let user = map("a: {c: 3}\nl: [9]\n");
        let out = coalesce(user, &defaults);
        assert_eq!(out, map("a: {b: 1, c: 3}\nl: [9]\ns: x\n"));
    }

    #[test]
    fn user_null_deletes_a_default_key() {
        let defaults = map("configs:\n  core.yaml: x\n  other.yaml: y\n");
        let user = map("configs:\n  core.yaml: null\n");
        assert_eq!(
            coalesce(user, &defaults),
            map("configs:\n  other.yaml: y\n")
        );
    }

    #[test]
    fn null_spelled_every_way_deletes() {
        for null in ["null", "Null", "NULL", "~", ""] {
            let out = coalesce(map(&format!("a: {null}\n")), &map("a: 1\nb: 2\n"));
            assert_eq!(out, map("b: 2\n"), "{null}");
        }
    }

    #[test]
    fn user_map_replaces_default_scalar_and_vice_versa() {
        assert_eq!(
            coalesce(map("a: {x: 1}\n"), &map("a: 1\n")),
            map("a: {x: 1}\n")
        );
        assert_eq!(coalesce(map("a: 1\n"), &map("a: {x: 1}\n")), map("a: 1\n"));
    }

    #[test]
    fn later_user_layers_win_and_keep_nulls() {
        let mut acc = map("a: {b: 1, c: 2}\n");
        merge_user_layer(&mut acc, map("a: {c: null, d: 4}\n"));
        assert_eq!(acc, map("a: {b: 1, c: null, d: 4}\n"));
    }

    #[test]
    fn coalesce_leaves_defaults_untouched() {
        let defaults = map("a: {b: 1}\n");
        let before = defaults.clone();
        let _ = coalesce(map("a: {b: null}\n"), &defaults);
        assert_eq!(defaults, before);
    }
}
