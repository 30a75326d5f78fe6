//! [`View`]: a cursor into the values tree that knows its key path and records what it hands out.
//!
//! Builders used to read values through dotted strings and re-spell the path in every error
//! message, and each bundled backend kept a hand-written list of the keys it reads so that a user
//! key nothing reads could be reported. A view carries its path (`st2api.resources`, list items as
//! `x[2]`) for messages, and logs every node it hands out in a shared [`Reads`]: after a render,
//! a key the user set that no builder consumed is known without any list.
//!
//! Navigation (`key`, `at`, `index`) reads nothing. Consuming does: handing out the node
//! (`value`), testing it (`truthy`, `is_null`, `non_empty`), printing it, converting it (`int`,
//! `typed`) or iterating it. Consuming a node reads its whole subtree.

use std::cell::RefCell;
use std::rc::Rc;

use anyhow::{Context as _, Result};

use super::{Map, NULL, Value};

/// The values nodes a render consumed, by address: a node counts as read with its whole subtree.
/// Addresses are only compared, never dereferenced; they stay valid because the values outlive
/// the render that logs them. Logging is a push (a render consumes a few thousand nodes, many
/// twice); the log is sorted once, when it is first queried.
#[derive(Debug, Default)]
pub struct Reads {
    nodes: RefCell<Log>,
    /// The nearest existing ancestors of missing keys that were consumed (`st2api.image.tag`
    /// when `st2api.image` is `{}`): read below, though not whole.
    probed: RefCell<Log>,
}

/// Addresses, sorted and without repeats when `sorted`.
#[derive(Debug, Default)]
struct Log {
    addresses: Vec<*const Value>,
    sorted: bool,
}

impl Log {
    fn push(&mut self, value: &Value) {
        self.addresses.push(std::ptr::from_ref(value));
        self.sorted = false;
    }

    /// The addresses, sorted for [`slice::binary_search`].
    fn sorted(&mut self) -> &[*const Value] {
        if !self.sorted {
            self.addresses.sort_unstable();
            self.addresses.dedup();
            self.sorted = true;
        }
        &self.addresses
    }
}

impl Reads {
    /// Log `value` (and so everything below it) as read.
    pub fn record(&self, value: &Value) {
        self.nodes.borrow_mut().push(value);
    }

    /// Log that a key missing below `parent` was consumed.
    fn record_missing(&self, parent: &Value) {
        self.probed.borrow_mut().push(parent);
    }

    /// Whether `value` itself was logged (its ancestors are not looked at).
    pub fn contains(&self, value: &Value) -> bool {
        self.nodes
            .borrow_mut()
            .sorted()
            .binary_search(&std::ptr::from_ref(value))
            .is_ok()
    }

    /// Whether `value` or any node below it was logged, or a key missing below one of them was.
    pub fn any_below(&self, value: &Value) -> bool {
        let mut nodes = self.nodes.borrow_mut();
        let mut probed = self.probed.borrow_mut();
        let (nodes, probed) = (nodes.sorted(), probed.sorted());
        let mut stack = vec![value];
        while let Some(node) = stack.pop() {
            let address = std::ptr::from_ref(node);
            if nodes.binary_search(&address).is_ok() || probed.binary_search(&address).is_ok() {
                return true;
            }
            match node {
                Value::Map(m) => stack.extend(m.values()),
                Value::List(l) => stack.extend(l.iter()),
                _ => {}
            }
        }
        false
    }
}

/// A values node, its key path and the render's read log.
#[derive(Clone)]
pub struct View<'a> {
    value: &'a Value,
    /// The node itself when it exists, else its nearest existing ancestor.
    found: &'a Value,
    path: String,
    reads: Rc<Reads>,
}

impl std::fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The path only: the value may be a secret.
        f.debug_struct("View").field("path", &self.path).finish()
    }
}

impl<'a> View<'a> {
    /// The view of a whole values tree (empty path), logging into `reads`.
    pub fn root(value: &'a Value, reads: Rc<Reads>) -> Self {
        Self {
            value,
            found: value,
            path: String::new(),
            reads,
        }
    }

    /// The key path of the node, for messages: `st2api.resources`, `x[2]` (empty at the root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The read log this view records into.
    pub fn reads(&self) -> &Rc<Reads> {
        &self.reads
    }

    /// The node without logging it: for checks that look at values without using them. Prefer
    /// [`View::value`].
    pub fn peek(&self) -> &'a Value {
        self.value
    }

    /// The path of child `key`.
    fn child_path(&self, key: &str) -> String {
        let mut path = String::with_capacity(self.path.len() + 1 + key.len());
        path.push_str(&self.path);
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        path
    }

    /// A child of a map by its literal key (keys may contain dots, e.g. `external-dns` or
    /// `core.yaml`); null when missing. Reads nothing.
    pub fn key(&self, key: &str) -> View<'a> {
        self.child(
            self.value.as_map().and_then(|m| m.get(key)),
            self.child_path(key),
        )
    }

    /// The node at a dotted path below this one (null when any step is missing). Reads nothing.
    pub fn at(&self, path: &str) -> View<'a> {
        let mut view = View {
            value: self.value,
            found: self.found,
            path: self.child_path(path),
            reads: Rc::clone(&self.reads),
        };
        for key in path.split('.') {
            match view.value.as_map().and_then(|m| m.get(key)) {
                Some(child) => (view.value, view.found) = (child, child),
                None => {
                    view.value = &NULL;
                    break;
                }
            }
        }
        view
    }

    /// Item `i` of a list (null when missing or not a list). Reads nothing.
    pub fn index(&self, i: usize) -> View<'a> {
        self.child(self.value.as_list().get(i), format!("{}[{i}]", self.path))
    }

    /// The view of `child` (`None`: missing below this node) at `path`.
    fn child(&self, child: Option<&'a Value>, path: String) -> View<'a> {
        View {
            value: child.unwrap_or(&NULL),
            found: child.unwrap_or(self.found),
            path,
            reads: Rc::clone(&self.reads),
        }
    }

    /// The node, read whole (it and everything below it).
    pub fn value(&self) -> &'a Value {
        if std::ptr::eq(self.value, &NULL) {
            self.reads.record_missing(self.found);
        } else {
            self.reads.record(self.value);
        }
        self.value
    }

    /// Count the node as read without using it: for a setting that applies only under a
    /// condition that is off for these values (the chart ignores it too), so that setting it is
    /// not reported as a key nothing reads.
    pub fn pass_over(&self) {
        self.reads.record(self.value);
    }

    /// Go template truthiness ([`Value::truthy`]).
    pub fn truthy(&self) -> bool {
        self.value().truthy()
    }

    /// Go's `default`: this node if truthy, else `fallback`.
    pub fn or(&self, fallback: View<'a>) -> View<'a> {
        if self.truthy() {
            self.clone()
        } else {
            fallback
        }
    }

    /// `Some(node)` when truthy ([`Value::non_empty`]).
    pub fn non_empty(&self) -> Option<&'a Value> {
        self.value().non_empty()
    }

    /// The view itself when truthy: `with`-style emission that keeps the path.
    pub fn non_empty_view(&self) -> Option<View<'a>> {
        self.truthy().then(|| self.clone())
    }

    pub fn is_null(&self) -> bool {
        self.value().is_null()
    }

    pub fn as_str(&self) -> Option<&'a str> {
        self.value().as_str()
    }

    pub fn as_map(&self) -> Option<&'a Map> {
        self.value().as_map()
    }

    pub fn as_list(&self) -> &'a [Value] {
        self.value().as_list()
    }

    /// Map entries (empty for anything that is not a map), in key order; reads the whole map.
    pub fn entries(&self) -> impl Iterator<Item = (&'a String, &'a Value)> + use<'a> {
        self.value().entries()
    }

    /// Map entries as views, in key order; reads the map itself only (an entry is read when its
    /// view is consumed).
    pub fn entry_views(&self) -> impl Iterator<Item = (&'a String, View<'a>)> + '_ {
        self.value.entries().map(|(k, _)| (k, self.key(k)))
    }

    /// List items as views; reads nothing until an item is consumed.
    pub fn items(&self) -> impl Iterator<Item = View<'a>> + '_ {
        (0..self.value.as_list().len()).map(|i| self.index(i))
    }

    /// [`Value::to_go_text`]: as a template interpolates it, null as nothing.
    pub fn to_go_text(&self) -> String {
        self.value().to_go_text()
    }

    /// [`Value::to_go_string`]: Go's `%v`, null as `<nil>`.
    pub fn to_go_string(&self) -> String {
        self.value().to_go_string()
    }

    /// The same as [`View::to_go_string`].
    pub fn go_string(&self) -> String {
        self.to_go_string()
    }

    /// [`Value::to_json`].
    pub fn to_json(&self) -> serde_json::Value {
        self.value().to_json()
    }

    /// [`Value::kind`] (reads nothing: messages only).
    pub fn kind(&self) -> &'static str {
        self.value.kind()
    }

    /// [`Value::kind_unfit`] (reads nothing: messages only).
    pub fn kind_unfit(&self) -> String {
        self.value.kind_unfit()
    }

    /// A whole number as a template printing it unquoted would read it: integers, integral
    /// floats and numeric strings; `None` for anything else or outside `i32`.
    pub fn whole_number(&self) -> Option<i32> {
        whole_number(self.value())
    }

    /// An integer field (ports, counts, probe timings) by [`View::whole_number`]; anything else
    /// is an error naming the path.
    pub fn int(&self) -> Result<i32> {
        self.whole_number().with_context(|| {
            format!(
                "`{}`: expected an integer, found {}",
                self.path,
                self.value.kind_unfit()
            )
        })
    }

    /// The node as JSON, deserialized into a typed Kubernetes field (`toYaml` pass-through); a
    /// node that does not fit is an error naming the path.
    pub fn typed<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        crate::render::pod::convert::from_json(&self.to_json(), &self.path)
    }
}

/// A whole number as a subchart template printing it unquoted would read it: integers, integral
/// floats and numeric strings; `None` for anything else or outside `i32`.
pub fn whole_number(value: &Value) -> Option<i32> {
    match value {
        Value::Int(i) => i32::try_from(*i).ok(),
        Value::Float(f)
            if f.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(f) =>
        {
            Some(*f as i32)
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Value {
        let (map, _) =
            crate::values::parse_document("a:\n  b: {c: 1, d: x}\n  l: [7, {e: true}]\n", "t.yaml")
                .unwrap_or_else(|e| panic!("{e}"));
        Value::Map(map)
    }

    #[test]
    fn navigation_reads_nothing_and_consuming_reads_the_subtree() {
        let values = tree();
        let reads = Rc::new(Reads::default());
        let root = View::root(&values, Rc::clone(&reads));
        let b = root.key("a").at("b");
        assert_eq!(b.path(), "a.b");
        assert!(!reads.any_below(&values), "navigation is no read");
        assert_eq!(b.key("c").int().ok(), Some(1));
        assert!(reads.contains(values.at("a.b.c")));
        assert!(!reads.contains(values.at("a.b.d")));
        assert!(reads.any_below(values.at("a")));
        let item = root.at("a.l").index(1).key("e");
        assert_eq!(item.path(), "a.l[1].e");
        assert!(item.truthy());
        assert!(reads.contains(values.at("a.l").as_list()[1].key("e")));
        assert!(!reads.contains(&values.at("a.l").as_list()[0]));
    }

    #[test]
    fn errors_name_the_path() {
        let values = tree();
        let root = View::root(&values, Rc::default());
        assert_eq!(
            root.at("a.b.d").int().map_err(|e| e.to_string()),
            Err("`a.b.d`: expected an integer, found a string that does not fit".to_string())
        );
        assert_eq!(
            root.at("a.l").index(5).int().map_err(|e| e.to_string()),
            Err("`a.l[5]`: expected an integer, found null".to_string())
        );
    }
}
