//! Generated secret values (SPEC-chart.md §4.4).
//! PLACEHOLDER: random only; the seeded HKDF generator replaces this (secrets work item).

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::render::Release;

/// Produces the values the chart generates randomly.
pub struct SecretGenerator {
    _release: Release,
}

impl SecretGenerator {
    pub fn new(release: &Release) -> Self {
        Self {
            _release: release.clone(),
        }
    }

    /// An alphanumeric password of `len` characters for `object`/`key`.
    pub fn alphanumeric(&self, _object: &str, _key: &str, len: usize) -> String {
        rand::rng()
            .sample_iter(&Alphanumeric)
            .take(len)
            .map(char::from)
            .collect()
    }

    /// An SSH private key (PEM/OpenSSH text) for `object`/`key`.
    pub fn ssh_private_key(&self, object: &str, key: &str) -> String {
        self.alphanumeric(object, key, 64)
    }

    /// The st2 datastore crypto key JSON for `object`/`key`.
    pub fn datastore_key(&self, object: &str, key: &str) -> String {
        let a = self.alphanumeric(object, key, 43);
        let h = self.alphanumeric(object, "hmac", 43);
        format!(
            r#"{{"aesKeyString":"{a}","hmacKey":{{"hmacKeyString":"{h}","size":256}},"mode":"CBC","size":256}}"#
        )
    }
}
