//! Writing rendered objects: one YAML stream on stdout, or one file per object in a directory.
//!
//! The YAML is serde-saphyr's (it quotes strings YAML 1.1 would misread, `"yes"`, `"0777"`, and
//! prints multi-line strings as block scalars), written by our own emitter in [`yaml`]: calling
//! serde-saphyr per object cost ~75 instructions per output byte, most of a large render. The
//! emitter only fast-paths what it can prove serde-saphyr writes the same way and delegates every
//! other scalar to serde-saphyr; its tests compare it byte for byte with `serde_saphyr::to_string`
//! on every scenario render, tricky strings and random trees. Output is only written after the
//! whole render succeeded and was serialized, so a failure never leaves partial output; its size
//! is capped ([`MAX_OUTPUT`]), so a few bytes of values (a sensor partition count, a block copied
//! into every pod) cannot make gigabytes of YAML. The directory writer of `--output-dir`, which
//! must also stay safe next to the user's files, is `dir`.

mod dir;
mod yaml;

use std::io::Write;

use anyhow::{Context, Result};

use self::yaml::SharedText;
use crate::object::Object;

pub use self::dir::{file_name, write_dir};

/// Serialize one object as a YAML document body (no leading `---`).
pub fn to_yaml(object: &Object) -> Result<String> {
    let mut out = String::with_capacity(4096);
    push_yaml(&mut out, object, &mut SharedText::default())?;
    Ok(out)
}

/// Append one object's YAML document body (no leading `---`) to `out`.
fn push_yaml(out: &mut String, object: &Object, shared: &mut SharedText) -> Result<()> {
    yaml::push_document(out, object, shared)
        .with_context(|| format!("serializing {}/{}", object.kind, object.name))
}

/// All objects as one multi-document stream, each document led by `---`.
pub fn to_yaml_stream(objects: &[Object]) -> Result<String> {
    let mut out = Vec::with_capacity(objects.len() * 4096);
    write_stream(objects, &mut out)?;
    // Only whole `str`s were written.
    String::from_utf8(out).context("the YAML stream is not UTF-8")
}

/// The most YAML one render may write: a release with hundreds of objects writes a few MiB
/// (`bench/large.yaml`, 202 objects, 5.2 MB), so this only stops values that multiply into
/// gigabytes, before anything is written.
pub const MAX_OUTPUT: usize = 64 * 1024 * 1024;

/// Refuse output that has grown past [`MAX_OUTPUT`].
fn check_size(len: usize) -> Result<()> {
    if len > MAX_OUTPUT {
        anyhow::bail!(
            "the rendered objects would be more than {} MiB of YAML; a count or a list in the values \
             multiplies objects or what every pod holds (`st2sensorcontainer.deployments`, \
             `st2.packs.images`, `st2.packs.sensors`, `jobs.extra_hooks`): make it smaller",
            MAX_OUTPUT / (1024 * 1024)
        );
    }
    Ok(())
}

/// Write all objects as one multi-document stream, each document led by `---`. The whole stream
/// is serialized (at most [`MAX_OUTPUT`]) before the first byte goes to `out`.
pub fn write_stream(objects: &[Object], out: &mut impl Write) -> Result<()> {
    let mut text = String::with_capacity(objects.len() * 4096);
    let mut shared = SharedText::default();
    for object in objects {
        text.push_str("---\n");
        push_yaml(&mut text, object, &mut shared)?;
        check_size(text.len())?;
    }
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Write bytes to stdout in one go.
pub fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()
}
