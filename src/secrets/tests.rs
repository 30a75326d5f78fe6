//! Unit tests of the generator: determinism, separation, formats, seed loading.

use std::collections::BTreeSet;

use super::*;

fn release(name: &str, namespace: &str) -> Release {
    Release {
        name: name.into(),
        namespace: namespace.into(),
    }
}

fn seed(text: &str) -> Seed {
    match Seed::from_bytes(text.as_bytes().to_vec(), "test") {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

fn seeded(text: &str) -> SecretGenerator {
    SecretGenerator::new(
        &release("st2", "default"),
        Some(&seed(text)),
        SshKeyType::Ed25519,
    )
}

fn ok<T>(r: Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{e:#}"))
}

const SEED: &str = "correct horse battery staple";

#[test]
fn same_seed_same_values_other_seed_other_values() {
    let (a, b, c) = (
        seeded(SEED),
        seeded(SEED),
        seeded("another seed, also long"),
    );
    for g in [&a, &b, &c] {
        assert!(!g.generated_random());
    }
    assert_eq!(
        a.alphanumeric("st2-st2-auth", "ST2_AUTH_PASSWORD", 12),
        b.alphanumeric("st2-st2-auth", "ST2_AUTH_PASSWORD", 12)
    );
    assert_eq!(a.datastore_key("o", "k"), b.datastore_key("o", "k"));
    assert_eq!(
        ok(a.ssh_private_key("o", "k")),
        ok(b.ssh_private_key("o", "k"))
    );
    assert_ne!(
        a.alphanumeric("st2-st2-auth", "ST2_AUTH_PASSWORD", 12),
        c.alphanumeric("st2-st2-auth", "ST2_AUTH_PASSWORD", 12)
    );
    assert_ne!(a.datastore_key("o", "k"), c.datastore_key("o", "k"));
    assert_ne!(
        ok(a.ssh_private_key("o", "k")),
        ok(c.ssh_private_key("o", "k"))
    );
    for g in [&a, &b, &c] {
        assert!(
            !g.generated_random(),
            "a seeded generator never uses the OS RNG"
        );
    }
}

#[test]
fn release_and_namespace_separate_values() {
    let s = seed(SEED);
    let values: BTreeSet<String> = [
        ("st2", "default"),
        ("st2", "prod"),
        ("prod", "default"),
        ("st2-", "default"),
    ]
    .iter()
    .map(|(r, ns)| {
        SecretGenerator::new(&release(r, ns), Some(&s), SshKeyType::Ed25519)
            .alphanumeric("o", "k", 32)
    })
    .collect();
    assert_eq!(values.len(), 4);
}

#[test]
fn no_two_object_key_pairs_share_a_value() {
    // Property: across a few hundred (object, key) pairs, including ones whose concatenations
    // collide ("ab"+"c" vs "a"+"bc"), every derived value is distinct.
    let g = seeded(SEED);
    let mut pairs = Vec::new();
    for i in 0..20 {
        for j in 0..10 {
            pairs.push((format!("obj{i}"), format!("key{j}")));
        }
        pairs.push((format!("obj{i}k"), "ey".to_string()));
        pairs.push((format!("obj{i}"), "".to_string()));
        pairs.push(("".to_string(), format!("obj{i}")));
    }
    let mut seen = BTreeSet::new();
    for (object, key) in &pairs {
        assert!(
            seen.insert(g.alphanumeric(object, key, 16)),
            "alphanumeric repeats at {object}/{key}"
        );
        assert!(
            seen.insert(g.datastore_key(object, key)),
            "datastore key repeats at {object}/{key}"
        );
    }
    assert_eq!(seen.len(), 2 * pairs.len());
}

#[test]
fn alphanumeric_is_uniform_enough_and_exact_length() {
    let g = seeded(SEED);
    let text = g.alphanumeric("o", "k", 62 * 200);
    assert_eq!(text.len(), 62 * 200);
    assert!(text.bytes().all(|b| b.is_ascii_alphanumeric()));
    let mut counts = BTreeMap::new();
    for b in text.bytes() {
        *counts.entry(b).or_insert(0u32) += 1;
    }
    assert_eq!(counts.len(), 62, "every character appears");
    // Expected 200 each; a biased sampler (plain `% 62`) would overweight the first 8 characters.
    assert!(
        counts.values().all(|&n| (130..=270).contains(&n)),
        "{counts:?}"
    );
    assert_eq!(g.alphanumeric("o", "k", 0), "");
}

#[test]
fn values_are_cached_per_render_even_unseeded() {
    let g = SecretGenerator::new(&release("st2", "default"), None, SshKeyType::Ed25519);
    assert!(!g.generated_random());
    let first = g.alphanumeric("st2-rabbitmq", "rabbitmq-password", 10);
    assert!(g.generated_random());
    assert_eq!(
        first,
        g.alphanumeric("st2-rabbitmq", "rabbitmq-password", 10)
    );
    assert_ne!(
        first,
        g.alphanumeric("st2-rabbitmq", "rabbitmq-erlang-cookie", 10)
    );
    assert_eq!(
        ok(g.ssh_private_key("s", "k")),
        ok(g.ssh_private_key("s", "k"))
    );
    let other = SecretGenerator::new(&release("st2", "default"), None, SshKeyType::Ed25519);
    assert_ne!(
        first,
        other.alphanumeric("st2-rabbitmq", "rabbitmq-password", 10)
    );
}

#[test]
fn given_values_win() {
    let g = seeded(SEED);
    assert_eq!(
        g.given_or_alphanumeric(&Value::String("mine".into()), "o", "k", 12),
        "mine"
    );
    assert_eq!(
        g.given_or_alphanumeric(&Value::Int(1234), "o", "k", 12),
        "1234"
    );
    let derived = g.alphanumeric("o", "k", 12);
    assert_eq!(
        g.given_or_alphanumeric(&Value::String(String::new()), "o", "k", 12),
        derived
    );
    assert_eq!(g.given_or_alphanumeric(&Value::Null, "o", "k", 12), derived);
}

#[test]
fn datastore_key_json_shape() {
    let g = seeded(SEED);
    let text = g.datastore_key("st2-st2-datastore-crypto-key", "datastore_crypto_key");
    let json: serde_json::Value = ok(serde_json::from_str(&text).map_err(Into::into));
    let keys: Vec<&String> = json
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["aesKeyString", "hmacKey", "mode", "size"]);
    assert_eq!(json["mode"], "CBC");
    assert_eq!(json["size"], 256);
    assert_eq!(json["hmacKey"]["size"], 256);
    let aes = json["aesKeyString"].as_str().unwrap_or_default();
    let hmac = json["hmacKey"]["hmacKeyString"]
        .as_str()
        .unwrap_or_default();
    assert_ne!(aes, hmac);
    for k in [aes, hmac] {
        assert_eq!(k.len(), 43, "{k}");
        assert!(
            k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{k}"
        );
        use base64::Engine as _;
        let bytes = ok(base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(k)
            .map_err(Into::into));
        assert_eq!(bytes.len(), 32);
    }
    assert!(!text.contains(' '), "compact JSON");
}

#[test]
fn ed25519_key_is_openssh_and_read_by_ssh_keygen() {
    let key = ok(seeded(SEED).ssh_private_key("st2-st2-ssh", "private_key"));
    assert!(
        key.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"),
        "{}",
        &key[..40]
    );
    assert!(key.ends_with("-----END OPENSSH PRIVATE KEY-----\n"));
    let public = ssh_keygen_public(&key);
    if let Some(public) = public {
        assert!(public.starts_with("ssh-ed25519 "), "{public}");
        assert!(public.trim_end().ends_with("stanley@st2k8s"), "{public}");
    }
}

#[test]
fn rsa_key_is_pkcs1_4096_and_read_by_ssh_keygen() {
    let g = SecretGenerator::new(
        &release("st2", "default"),
        Some(&seed(SEED)),
        SshKeyType::Rsa,
    );
    let key = ok(g.ssh_private_key("st2-st2-ssh", "private_key"));
    assert!(key.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    assert!(key.ends_with("-----END RSA PRIVATE KEY-----\n"));
    assert!(
        key.lines()
            .filter(|l| !l.starts_with("-----"))
            .all(|l| l.len() <= 64)
    );
    // Cached: asking again is instant and identical.
    assert_eq!(key, ok(g.ssh_private_key("st2-st2-ssh", "private_key")));
    if let Some(public) = ssh_keygen_public(&key) {
        assert!(public.starts_with("ssh-rsa "), "{public}");
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        use rsa::traits::PublicKeyParts as _;
        let parsed = ok(rsa::RsaPrivateKey::from_pkcs1_pem(&key).map_err(Into::into));
        assert_eq!(parsed.size() * 8, 4096);
    }
}

/// The public key `ssh-keygen -y` derives from `private`, or `None` (with a note) without ssh-keygen.
fn ssh_keygen_public(private: &str) -> Option<String> {
    let keygen = std::path::Path::new("/usr/bin/ssh-keygen");
    let keygen = if keygen.exists() {
        keygen.to_path_buf()
    } else {
        std::path::PathBuf::from("ssh-keygen")
    };
    let dir = std::env::temp_dir().join(format!(
        "st2k8s-sshkey-{}-{}",
        std::process::id(),
        private.len()
    ));
    ok(std::fs::create_dir_all(&dir).map_err(Into::into));
    let file = dir.join("key");
    ok(write_private(&file, private));
    let out = std::process::Command::new(&keygen)
        .arg("-y")
        .arg("-f")
        .arg(&file)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    match out {
        Ok(out) => {
            assert!(
                out.status.success(),
                "ssh-keygen: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8_lossy(&out.stdout).into_owned())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("note: ssh-keygen not found; skipping the ssh-keygen check");
            None
        }
        Err(e) => panic!("ssh-keygen: {e}"),
    }
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[test]
fn ssh_key_type_values() {
    for (yaml, want) in [
        ("st2: {}", Some(SshKeyType::Ed25519)),
        ("st2: {ssh_key_type: ed25519}", Some(SshKeyType::Ed25519)),
        ("st2: {ssh_key_type: RSA}", Some(SshKeyType::Rsa)),
        ("st2: {ssh_key_type: dsa}", None),
        ("st2: {ssh_key_type: 3}", None),
    ] {
        let (map, _) = ok(crate::values::parse_document(yaml, "t").map_err(Into::into));
        let map = Value::Map(map);
        let got = SshKeyType::from_values(&crate::values::View::root(&map, Default::default()));
        match want {
            Some(w) => assert_eq!(ok(got), w, "{yaml}"),
            None => {
                let err = format!(
                    "{:#}",
                    got.err().unwrap_or_else(|| panic!("{yaml} accepted"))
                );
                assert!(err.contains("st2.ssh_key_type"), "{err}");
            }
        }
    }
}

#[test]
fn seed_file_rules() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = std::env::temp_dir().join(format!("st2k8s-seed-{}", std::process::id()));
    ok(std::fs::create_dir_all(&dir).map_err(Into::into));
    let file = dir.join("seed");
    ok(std::fs::write(&file, format!("{SEED}\n")).map_err(Into::into));

    ok(std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).map_err(Into::into));
    let err = format!(
        "{:#}",
        Seed::from_file(&file)
            .err()
            .unwrap_or_else(|| panic!("0644 accepted"))
    );
    assert!(
        err.contains(&file.display().to_string()) && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!err.contains(SEED), "{err}");

    ok(std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(Into::into));
    assert_eq!(
        ok(Seed::from_file(&file)),
        seed(SEED),
        "one trailing newline is dropped"
    );

    ok(std::fs::write(&file, "short\n").map_err(Into::into));
    let err = format!(
        "{:#}",
        Seed::from_file(&file)
            .err()
            .unwrap_or_else(|| panic!("short seed accepted"))
    );
    assert!(
        err.contains("at least 16 bytes") && !err.contains("short"),
        "{err}"
    );

    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(format!("{:?}", seed(SEED)), "Seed(<hidden>)");
}

#[test]
fn hkdf_info_is_unambiguous() {
    assert_ne!(hkdf_info(&["ab", "c"]), hkdf_info(&["a", "bc"]));
    assert_ne!(hkdf_info(&["a", ""]), hkdf_info(&["", "a"]));
}

/// The error of reading the seed file `path`, as the user sees it.
fn seed_file_error(path: &Path) -> String {
    match Seed::from_file(path) {
        Ok(_) => panic!("{} accepted", path.display()),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn seeds_without_entropy_are_refused() {
    let example = "(for example the output of `openssl rand -base64 32`)";
    for (text, want) in [
        (
            "",
            format!("test: the secret seed is empty or only whitespace {example}"),
        ),
        (
            " \t\r\n   \n                   ",
            format!("test: the secret seed is empty or only whitespace {example}"),
        ),
        (
            "   fifteen-bytes  \n\n\n\n\n\n",
            format!(
                "test: the secret seed must be at least 16 bytes long, not counting surrounding whitespace {example}"
            ),
        ),
        (
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            format!("test: the secret seed is one character repeated; use a random one {example}"),
        ),
        (
            "  0000000000000000  ",
            format!("test: the secret seed is one character repeated; use a random one {example}"),
        ),
    ] {
        match Seed::from_bytes(text.as_bytes().to_vec(), "test") {
            Ok(_) => panic!("{text:?} accepted"),
            Err(e) => assert_eq!(format!("{e:#}"), want, "{text:?}"),
        }
    }
    // Sixteen bytes between whitespace are enough, and the whitespace stays part of the seed.
    let padded = Seed::from_bytes(b" sixteen-bytes-ok ".to_vec(), "test");
    assert_eq!(ok(padded), seed(" sixteen-bytes-ok "));
    assert_ne!(seed(" sixteen-bytes-ok "), seed("sixteen-bytes-ok"));
}

/// A scratch directory for one seed-file test.
fn seed_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("st2k8s-seed-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    ok(std::fs::create_dir_all(&dir).map_err(Into::into));
    dir
}

#[test]
fn seed_file_of_another_user_is_refused() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = seed_dir("owner");
    let file = dir.join("seed");
    ok(write_private(&file, SEED));
    // SAFETY: `geteuid` takes no arguments and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let other = if euid == 0 {
        // root can give the file away; anyone else reads a file root owns.
        ok(std::os::unix::fs::chown(&file, Some(65534), None).map_err(Into::into));
        file.clone()
    } else {
        std::path::PathBuf::from("/etc/passwd")
    };
    let uid = ok(std::fs::metadata(&other).map_err(Into::into)).uid();
    assert_ne!(uid, euid);
    assert_eq!(
        seed_file_error(&other),
        format!(
            "secret seed file `{}` belongs to another user (uid {uid}, st2k8s runs as uid {euid}); \
             only a seed file of your own is trusted: copy it to a file you own, mode 0600",
            other.display()
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn seed_file_must_be_a_small_regular_file_links_are_followed() {
    let dir = seed_dir("kind");
    let fifo = dir.join("fifo");
    let status = std::process::Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(&fifo)
        .status();
    assert!(ok(status.map_err(Into::into)).success(), "mkfifo");
    assert_eq!(
        seed_file_error(&fifo),
        format!(
            "secret seed file `{}` is not a regular file",
            fifo.display()
        )
    );
    assert_eq!(
        seed_file_error(&dir),
        format!("secret seed file `{}` is not a regular file", dir.display())
    );

    let big = dir.join("big");
    ok(write_private(&big, &"x1".repeat(4000)));
    assert_eq!(
        seed_file_error(&big),
        format!(
            "secret seed file `{}` is larger than 4096 bytes; a seed is one line (for example the \
             output of `openssl rand -base64 32`)",
            big.display()
        )
    );

    // Kubernetes mounts Secret files as `key -> ..data/key`; the file reached is what counts.
    let real = dir.join("..data");
    ok(std::fs::create_dir_all(&real).map_err(Into::into));
    ok(write_private(&real.join("seed"), &format!("{SEED}\n")));
    let link = dir.join("seed");
    ok(std::os::unix::fs::symlink("..data/seed", &link).map_err(Into::into));
    assert_eq!(ok(Seed::from_file(&link)), seed(SEED));

    let repeated = dir.join("repeated");
    ok(write_private(&repeated, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\n"));
    let err = seed_file_error(&repeated);
    assert!(
        err.contains("one character repeated") && !err.contains("zzzz"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
