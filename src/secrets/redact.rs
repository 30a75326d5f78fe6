//! `--redact-secrets`: replace every Secret value in rendered output by a fingerprint, so a CI
//! diff shows *that* a secret changed without showing it.
//!
//! Runs once over the rendered objects after checksum annotations were computed (they keep
//! hashing the real values). Credentials also quoted inside other objects (a backend password the
//! user's `st2.config` or an env value repeats) are replaced there too.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::object::Object;
use crate::object::SharedItems;

/// Credentials shorter than this are not searched for inside other objects: replacing every
/// `abc` in a ConfigMap would wreck the diff more than it protects.
pub(crate) const MIN_QUOTED_LEN: usize = 4;

/// `redacted:sha256:` and the first 12 hex digits of the value's sha256.
pub fn fingerprint(value: &[u8]) -> String {
    let digest = Sha256::digest(value);
    let hex = crate::hex::hex(digest.get(..6).unwrap_or_default());
    format!("redacted:sha256:{hex}")
}

/// Redact every value of every Secret's `data` (hashed after base64 decoding) and `stringData`,
/// and every credential-named Secret value quoted inside other objects.
pub fn redact(objects: &mut [Object]) {
    let mut quoted: Vec<(String, String)> = Vec::new();
    for object in objects.iter_mut().filter(|o| o.kind == "Secret") {
        for (field, encoded) in [("data", true), ("stringData", false)] {
            let Some(map) = object
                .body_mut()
                .get_mut(field)
                .and_then(Json::as_object_mut)
            else {
                continue;
            };
            for (key, value) in map.iter_mut() {
                let Some(text) = value.as_str() else { continue };
                let raw = if encoded {
                    decode_data(text)
                } else {
                    text.as_bytes().to_vec()
                };
                let print = fingerprint(&raw);
                if is_credential(key)
                    && let Ok(plain) = String::from_utf8(raw)
                    && plain.len() >= MIN_QUOTED_LEN
                {
                    quoted.push((plain, print.clone()));
                }
                *value = Json::String(print);
            }
        }
    }
    // Longest first, so a credential containing another is replaced whole.
    quoted.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    quoted.dedup();
    if quoted.is_empty() {
        return;
    }
    // Shared items are redacted once per list, and the objects holding it get the redacted copy.
    let mut redacted: HashMap<*const Vec<Json>, (SharedItems, SharedItems)> = HashMap::new();
    for object in objects.iter_mut().filter(|o| o.kind != "Secret") {
        if let Some(splice) = &mut object.splice {
            let (_, items) = redacted
                .entry(Arc::as_ptr(&splice.items))
                .or_insert_with(|| {
                    let mut items = Vec::clone(&splice.items);
                    for item in &mut items {
                        replace_quoted(item, &quoted);
                    }
                    (Arc::clone(&splice.items), Arc::new(items))
                });
            splice.items = Arc::clone(items);
        }
        replace_quoted(object.body_mut(), &quoted);
    }
}

/// The bytes of a Secret `data` value: base64-decoded, or the text itself when it is not base64
/// (a hand-written manifest, an already redacted one).
pub(crate) fn decode_data(text: &str) -> Vec<u8> {
    STANDARD
        .decode(text)
        .unwrap_or_else(|_| text.as_bytes().to_vec())
}

/// `text` with every occurrence of each `(plain, print)` credential replaced by its print, or
/// `None` when none occurs. All occurrences are found in the original text first (overlapping
/// ones too), so a print never takes part in a later match, and text covered by any
/// occurrence is never shown: a credential inside a longer one is replaced with it, and two
/// overlapping credentials become both prints side by side.
pub(crate) fn replace_all(text: &str, quoted: &[(String, String)]) -> Option<String> {
    let mut found: Vec<(usize, usize, &str)> = Vec::new();
    for (plain, print) in quoted {
        let Some(step) = plain.chars().next().map(char::len_utf8) else {
            continue;
        };
        let mut from = 0;
        while let Some(at) = text.get(from..).and_then(|rest| rest.find(plain.as_str())) {
            found.push((from + at, from + at + plain.len(), print));
            from += at + step;
        }
    }
    if found.is_empty() {
        return None;
    }
    // By start, the longest first: a match starting inside the hidden region only extends it.
    found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)));
    let mut out = String::with_capacity(text.len());
    let mut shown_to = 0;
    for (start, end, print) in found {
        if start >= shown_to {
            out.push_str(text.get(shown_to..start).unwrap_or_default());
        } else if end <= shown_to {
            continue;
        }
        out.push_str(print);
        shown_to = end;
    }
    out.push_str(text.get(shown_to..).unwrap_or_default());
    Some(out)
}

/// Does a Secret data key name a credential (password, key, token, cookie, secret)? Usernames,
/// ports and adapter names also live in Secrets but are not worth hiding elsewhere.
fn is_credential(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "key", "token", "cookie", "secret"]
        .iter()
        .any(|word| key.contains(word))
}

/// Replace each credential's text in every string of `node` (map keys are names, left alone).
fn replace_quoted(node: &mut Json, quoted: &[(String, String)]) {
    match node {
        Json::String(s) => {
            if let Some(replaced) = replace_all(s, quoted) {
                *s = replaced;
            }
        }
        Json::Array(items) => items
            .iter_mut()
            .for_each(|item| replace_quoted(item, quoted)),
        Json::Object(map) => map
            .values_mut()
            .for_each(|value| replace_quoted(value, quoted)),
        Json::Null | Json::Bool(_) | Json::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(kind: &str, name: &str, body: Json) -> Object {
        Object::from_json("v1", kind, name.into(), body)
    }

    #[test]
    fn fingerprint_is_sha256_prefix() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(fingerprint(b"abc"), "redacted:sha256:ba7816bf8f01");
    }

    #[test]
    fn replaces_secret_values_and_quoted_credentials() {
        let password = "s3cret-Pa55word";
        let mut objects = vec![
            object(
                "Secret",
                "st2-mongodb",
                json!({
                    "data": {"mongodb-password": STANDARD.encode(password), "username": STANDARD.encode("admin-user")},
                    "stringData": {"extra": "plain text value"},
                }),
            ),
            object(
                "ConfigMap",
                "st2-st2-config",
                json!({"data": {"st2.docker.conf": format!("[database]\nusername = admin-user\npassword = {password}\n")}}),
            ),
        ];
        redact(&mut objects);
        let print = fingerprint(password.as_bytes());
        assert_eq!(
            *objects[0].body(),
            json!({
                "data": {"mongodb-password": print, "username": fingerprint(b"admin-user")},
                "stringData": {"extra": fingerprint(b"plain text value")},
            })
        );
        assert_eq!(
            objects[1].body()["data"]["st2.docker.conf"],
            json!(format!(
                "[database]\nusername = admin-user\npassword = {print}\n"
            ))
        );
    }

    #[test]
    fn longer_credentials_win_over_contained_ones() {
        let mut objects = vec![
            object(
                "Secret",
                "a",
                json!({"stringData": {"password": "abcdef", "token": "abcdefgh"}}),
            ),
            object(
                "ConfigMap",
                "c",
                json!({"data": {"x": ["abcdefgh abcdef"]}}),
            ),
        ];
        redact(&mut objects);
        let want = format!("{} {}", fingerprint(b"abcdefgh"), fingerprint(b"abcdef"));
        assert_eq!(*objects[1].body(), json!({"data": {"x": [want]}}));
    }

    #[test]
    fn overlapping_credentials_are_hidden_whole() {
        let quoted = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        // Two credentials sharing "cd": neither part stays visible.
        let two = quoted(&[("cdefgh", "<2>"), ("abcd", "<1>")]);
        assert_eq!(
            replace_all("x abcdefgh y", &two).as_deref(),
            Some("x <1><2> y")
        );
        // Overlapping occurrences of one credential are all hidden.
        let one = quoted(&[("abab", "<p>")]);
        assert_eq!(replace_all("ababab.", &one).as_deref(), Some("<p><p>."));
        // A print is never matched again.
        let print = quoted(&[("secret", "<s:x>"), ("s:x", "LEAK")]);
        assert_eq!(replace_all("secret", &print).as_deref(), Some("<s:x>"));
        assert_eq!(replace_all("nothing here", &two), None);
    }

    #[test]
    fn shared_items_are_redacted_once_for_every_object() {
        let shared: SharedItems = Arc::new(vec![json!({"args": ["--password=abcdef"]})]);
        let pod = |name: &str| {
            let mut pod = object(
                "Deployment",
                name,
                json!({"spec": {"template": {"spec": {"initContainers": []}}}}),
            );
            pod.splice = Some(crate::object::Splice {
                pointer: "/spec/template/spec/initContainers",
                at: 0,
                items: Arc::clone(&shared),
            });
            pod
        };
        let mut objects = vec![
            object("Secret", "a", json!({"stringData": {"password": "abcdef"}})),
            pod("p1"),
            pod("p2"),
        ];
        redact(&mut objects);
        let want = json!([{"args": [format!("--password={}", fingerprint(b"abcdef"))]}]);
        for pod in &objects[1..] {
            assert_eq!(
                pod.full_body()["spec"]["template"]["spec"]["initContainers"],
                want
            );
        }
        let items = |o: &Object| o.splice.as_ref().map(|s| Arc::as_ptr(&s.items));
        assert_eq!(items(&objects[1]), items(&objects[2]), "still one list");
        assert_eq!(
            shared[0]["args"][0], "--password=abcdef",
            "the original is untouched"
        );
    }

    #[test]
    fn credential_names() {
        for (key, want) in [
            ("ST2_AUTH_PASSWORD", true),
            ("mongodb-replica-set-key", true),
            ("rabbitmq-erlang-cookie", true),
            ("HUBOT_SLACK_TOKEN", true),
            ("private_key", true),
            ("ST2_AUTH_USERNAME", false),
            ("EXPRESS_PORT", false),
            ("HUBOT_ADAPTER", false),
        ] {
            assert_eq!(is_credential(key), want, "{key}");
        }
    }
}
