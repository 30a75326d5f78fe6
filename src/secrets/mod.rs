//! Secret values the chart would generate at random: the st2 password, the SSH key, the
//! datastore crypto key, and backend passwords the user left empty.
//!
//! With a [`Seed`] every value is derived with HKDF-SHA256 from the seed, bound to release,
//! namespace, Secret name and data key, so renders are reproducible and values never repeat
//! across releases or keys. Without one, values come from the OS-seeded CSPRNG, as in Helm.
//! Values never reach stderr or error messages; [`redact`] fingerprints them for CI diffs.

mod datastore;
mod defaults;
pub mod redact;
mod ssh;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use hkdf::Hkdf;
use rand::RngCore as _;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use sha2::Sha256;

pub use defaults::default_password_warnings;

use crate::release::Release;
use crate::values::{Value, View};

/// Environment variable holding the seed text (`--secret-seed-file` wins over it).
pub const SEED_ENV: &str = "ST2K8S_SECRET_SEED";

/// The one line printed on stderr when a render generated random (unreproducible) values.
pub const NOT_REPRODUCIBLE: &str = "warning: this output is not reproducible: generated secrets are random and change \
on every render; pass a seed with `--secret-seed-file FILE` (mode 0600) or the ST2K8S_SECRET_SEED environment variable";

/// Shortest seed accepted: a seed is the only thing standing between the output and every
/// secret in it, so a short one is refused rather than silently weakening all values.
const MIN_SEED_LEN: usize = 16;

/// Largest seed file read: a seed is one line; anything bigger is the wrong file.
const MAX_SEED_FILE: u64 = 4096;

/// HKDF salt: a fixed domain separator, so st2k8s keys never collide with other uses of a seed.
const HKDF_SALT: &[u8] = b"st2k8s secret derivation v1";

/// The user's secret seed. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Seed(Vec<u8>);

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed(<hidden>)")
    }
}

impl Seed {
    /// The seed from `--secret-seed-file` if given, else from [`SEED_ENV`], else none.
    pub fn resolve(file: Option<&Path>) -> Result<Option<Self>> {
        if let Some(path) = file {
            return Self::from_file(path).map(Some);
        }
        match std::env::var_os(SEED_ENV) {
            Some(text) => Self::from_bytes(text.into_encoded_bytes(), SEED_ENV).map(Some),
            None => Ok(None),
        }
    }

    /// Read a seed file. Like an SSH key, it must be a regular file owned by the user running
    /// st2k8s and private to them: a seed others can read or replace would let them compute (or
    /// choose) every secret of the render. Owner, mode and type are checked on the opened file,
    /// so what is checked is what is read. Symbolic links are followed (Kubernetes mounts Secret
    /// files through `..data` links); the file they reach is what counts. The file is opened
    /// non-blocking, so a FIFO is refused instead of waiting for a writer, and at most
    /// [`MAX_SEED_FILE`] bytes are read. One trailing newline is dropped so that
    /// `echo "$SEED" > file` equals `ST2K8S_SECRET_SEED=$SEED`.
    pub fn from_file(path: &Path) -> Result<Self> {
        use std::io::Read as _;
        let shown = path.display();
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.custom_flags(libc::O_NONBLOCK);
        }
        let file = options
            .open(path)
            .with_context(|| format!("cannot read secret seed file `{shown}`"))?;
        let metadata = file
            .metadata()
            .with_context(|| format!("cannot read secret seed file `{shown}`"))?;
        if !metadata.is_file() {
            bail!("secret seed file `{shown}` is not a regular file");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            // SAFETY: `geteuid` takes no arguments, touches no memory and cannot fail.
            let euid = unsafe { libc::geteuid() };
            if metadata.uid() != euid {
                bail!(
                    "secret seed file `{shown}` belongs to another user (uid {}, st2k8s runs as uid \
                     {euid}); only a seed file of your own is trusted: copy it to a file you own, mode 0600",
                    metadata.uid()
                );
            }
            let mode = metadata.mode() & 0o777;
            if mode & 0o077 != 0 {
                bail!(
                    "secret seed file `{shown}` is accessible by group or others (mode {mode:04o}); \
                     restrict it with `chmod 600 {shown}`"
                );
            }
        }
        let mut bytes = Vec::new();
        file.take(MAX_SEED_FILE + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read secret seed file `{shown}`"))?;
        if bytes.len() as u64 > MAX_SEED_FILE {
            bail!(
                "secret seed file `{shown}` is larger than {MAX_SEED_FILE} bytes; a seed is one line \
                 (for example the output of `openssl rand -base64 32`)"
            );
        }
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        Self::from_bytes(bytes, &format!("secret seed file `{shown}`"))
    }

    /// A seed from its text; `source` names where it came from, for errors. A seed must carry
    /// entropy: whitespace around it does not count towards [`MIN_SEED_LEN`], and one character
    /// repeated is refused however long. The bytes are used as given (whitespace included), so
    /// a seed derives the same values in every version that accepts it.
    pub fn from_bytes(bytes: Vec<u8>, source: &str) -> Result<Self> {
        const EXAMPLE: &str = "for example the output of `openssl rand -base64 32`";
        let meaningful = bytes.trim_ascii();
        if meaningful.is_empty() {
            bail!("{source}: the secret seed is empty or only whitespace ({EXAMPLE})");
        }
        if meaningful.len() < MIN_SEED_LEN {
            bail!(
                "{source}: the secret seed must be at least {MIN_SEED_LEN} bytes long, not counting \
                 surrounding whitespace ({EXAMPLE})"
            );
        }
        if meaningful.iter().all(|&b| b == meaningful[0]) {
            bail!(
                "{source}: the secret seed is one character repeated; use a random one ({EXAMPLE})"
            );
        }
        Ok(Self(bytes))
    }
}

/// Which SSH key the chart's `<release>-st2-ssh` Secret gets when `st2.ssh_key` is unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SshKeyType {
    /// OpenSSH-format ed25519 key (st2k8s default: fast and fully reproducible).
    #[default]
    Ed25519,
    /// 4096-bit RSA, PKCS#1 PEM, as the chart's `genPrivateKey "rsa"`.
    Rsa,
}

impl SshKeyType {
    /// Read `st2.ssh_key_type` (an st2k8s extension: `ed25519`, the default, or `rsa`).
    pub fn from_values(values: &View) -> Result<Self> {
        match values.at("st2.ssh_key_type").value() {
            Value::Null => Ok(Self::Ed25519),
            Value::String(s) if s.is_empty() || s.eq_ignore_ascii_case("ed25519") => {
                Ok(Self::Ed25519)
            }
            Value::String(s) if s.eq_ignore_ascii_case("rsa") => Ok(Self::Rsa),
            _ => bail!(
                "`st2.ssh_key_type`: not a supported SSH key type; use `ed25519` (default) or `rsa`"
            ),
        }
    }
}

/// Produces the values the chart generates randomly, seeded or not.
///
/// Every value is made once per render and cached by (kind, object, key), so two builders that
/// need the same value (a Secret and a config file quoting it) get the same text, even unseeded.
pub struct SecretGenerator {
    release: Release,
    /// HKDF state extracted from the seed; `None` means random values.
    hkdf: Option<Hkdf<Sha256>>,
    ssh_key_type: SshKeyType,
    cache: RefCell<BTreeMap<(String, String, String), String>>,
    generated_random: Cell<bool>,
}

impl SecretGenerator {
    /// A generator for `release`; `seed` makes every value reproducible.
    pub fn new(release: &Release, seed: Option<&Seed>, ssh_key_type: SshKeyType) -> Self {
        Self {
            release: release.clone(),
            hkdf: seed.map(|s| Hkdf::<Sha256>::new(Some(HKDF_SALT), &s.0)),
            ssh_key_type,
            cache: RefCell::new(BTreeMap::new()),
            generated_random: Cell::new(false),
        }
    }

    /// Did this render produce any random (unseeded) value? Then the output is not reproducible.
    pub fn generated_random(&self) -> bool {
        self.generated_random.get()
    }

    /// The text of a user-supplied secret value when it is set and non-empty; otherwise (unset or
    /// `""`) an alphanumeric value of `len` characters generated for `object`/`key`.
    pub fn given_or_alphanumeric(
        &self,
        given: &Value,
        object: &str,
        key: &str,
        len: usize,
    ) -> String {
        match given.non_empty() {
            Some(v) => v.to_go_string(),
            None => self.alphanumeric(object, key, len),
        }
    }

    /// An alphanumeric password of `len` characters for `object`/`key`, uniform over `[A-Za-z0-9]`.
    pub fn alphanumeric(&self, object: &str, key: &str, len: usize) -> String {
        let Ok(value) =
            self.cached::<Infallible>(&format!("alphanumeric/{len}"), object, key, || {
                let mut rng =
                    ChaCha20Rng::from_seed(self.derive::<32>("alphanumeric", object, key));
                Ok(alphanumeric_from(&mut rng, len))
            });
        value
    }

    /// An SSH private key for `object`/`key`: ed25519 in OpenSSH format, or 4096-bit RSA PKCS#1
    /// PEM when `st2.ssh_key_type: rsa`.
    pub fn ssh_private_key(&self, object: &str, key: &str) -> Result<String> {
        match self.ssh_key_type {
            SshKeyType::Ed25519 => self.cached("ssh-ed25519", object, key, || {
                ssh::ed25519_openssh(&self.derive::<32>("ssh-ed25519", object, key))
            }),
            SshKeyType::Rsa => self.cached("ssh-rsa", object, key, || {
                let mut rng = ChaCha20Rng::from_seed(self.derive::<32>("ssh-rsa", object, key));
                ssh::rsa_pem(&mut rng)
            }),
        }
        .with_context(|| format!("generating the SSH key for Secret `{object}` key `{key}`"))
    }

    /// The st2 datastore crypto key JSON for `object`/`key` (two fresh 256-bit keys).
    pub fn datastore_key(&self, object: &str, key: &str) -> String {
        let Ok(value) = self.cached::<Infallible>("datastore-key", object, key, || {
            let bytes = self.derive::<64>("datastore-key", object, key);
            let (aes, hmac) = bytes.split_at(32);
            Ok(datastore::key_json(aes, hmac))
        });
        value
    }

    /// The cached value of `kind` for `object`/`key`, made by `make` on first use.
    fn cached<E>(
        &self,
        kind: &str,
        object: &str,
        key: &str,
        make: impl FnOnce() -> Result<String, E>,
    ) -> Result<String, E> {
        let id = (kind.to_string(), object.to_string(), key.to_string());
        if let Some(value) = self.cache.borrow().get(&id) {
            return Ok(value.clone());
        }
        let value = make()?;
        self.cache.borrow_mut().insert(id, value.clone());
        Ok(value)
    }

    /// `N` bytes for `purpose`/`object`/`key`: HKDF-Expand of the seed, or OS-seeded randomness.
    fn derive<const N: usize>(&self, purpose: &str, object: &str, key: &str) -> [u8; N] {
        const { assert!(N <= 255 * 32, "beyond HKDF-SHA256's output limit") };
        let mut out = [0u8; N];
        match &self.hkdf {
            Some(hkdf) => {
                let info = hkdf_info(&[
                    purpose,
                    &self.release.name,
                    &self.release.namespace,
                    object,
                    key,
                ]);
                // Cannot fail: the length is checked against the RFC 5869 limit above.
                if hkdf.expand(&info, &mut out).is_err() {
                    unreachable!("HKDF output of {N} bytes is within the RFC 5869 limit");
                }
            }
            None => {
                self.generated_random.set(true);
                rand::rng().fill_bytes(&mut out);
            }
        }
        out
    }
}

/// HKDF `info`: each field as a 4-byte big-endian length and its bytes, so no two field lists
/// encode alike (`("ab","c")` ≠ `("a","bc")`).
fn hkdf_info(fields: &[&str]) -> Vec<u8> {
    let mut info = b"st2k8s/v1".to_vec();
    for field in fields {
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
        info.extend_from_slice(&len.to_be_bytes());
        info.extend_from_slice(field.as_bytes());
    }
    info
}

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` characters uniform over [`ALPHANUMERIC`]: bytes ≥ 248 (= 4 × 62) are rejected so that
/// `byte % 62` carries no bias.
fn alphanumeric_from(rng: &mut impl RngCore, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rng.fill_bytes(&mut buf);
        for &b in buf.iter().filter(|&&b| b < 248) {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALPHANUMERIC[usize::from(b % 62)]));
        }
    }
    out
}

#[cfg(test)]
mod tests;
