//! SSH private keys for the `<release>-st2-ssh` Secret: ed25519 in OpenSSH format
//! (st2k8s default) or 4096-bit RSA in PKCS#1 PEM (the chart's `genPrivateKey "rsa"`).
//! Both are pure functions of their input bytes, so a seeded render yields the same key text
//! (for RSA, given the `rsa` crate version pinned in Cargo.lock: its prime search defines the key).

use anyhow::{Context, Result};
use rand_chacha::rand_core::CryptoRngCore;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use ssh_key::private::{Ed25519Keypair, KeypairData};
use ssh_key::{LineEnding, PrivateKey};

/// Comment stored in the key (shown by `ssh-keygen -l`); it names the st2 system user.
const COMMENT: &str = "stanley@st2k8s";

/// RSA modulus size the chart uses.
const RSA_BITS: usize = 4096;

/// The OpenSSH private key for an ed25519 private seed. The key's "check int" comes from the
/// key itself (not an RNG), so the text is a function of `seed` alone.
pub fn ed25519_openssh(seed: &[u8; 32]) -> Result<String> {
    let keypair = KeypairData::Ed25519(Ed25519Keypair::from_seed(seed));
    let key = PrivateKey::new(keypair, COMMENT).context("building the ed25519 key")?;
    let text = key
        .to_openssh(LineEnding::LF)
        .context("encoding the ed25519 key")?;
    Ok(text.as_str().to_owned())
}

/// A 4096-bit RSA key from `rng`, as PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`).
pub fn rsa_pem(rng: &mut impl CryptoRngCore) -> Result<String> {
    let key = rsa::RsaPrivateKey::new(rng, RSA_BITS).context("generating the RSA key")?;
    let pem = key
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .context("encoding the RSA key")?;
    Ok(pem.as_str().to_owned())
}
