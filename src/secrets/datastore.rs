//! The st2 datastore crypto key: the keyczar-style AES key JSON that st2's `read_crypto_key`
//! loads, both 256-bit keys in URL-safe base64 without padding. The chart swaps the wrong
//! characters (`_`→`/`); st2k8s writes the alphabet st2 decodes with `urlsafe_b64decode`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Compact JSON with the chart's key order (sorted, as its `toJson` prints):
/// `{"aesKeyString":…,"hmacKey":{"hmacKeyString":…,"size":256},"mode":"CBC","size":256}`.
pub fn key_json(aes: &[u8], hmac: &[u8]) -> String {
    serde_json::json!({
        "aesKeyString": URL_SAFE_NO_PAD.encode(aes),
        "hmacKey": {"hmacKeyString": URL_SAFE_NO_PAD.encode(hmac), "size": 256},
        "mode": "CBC",
        "size": 256,
    })
    .to_string()
}
