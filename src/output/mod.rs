//! Writing rendered objects: one YAML stream on stdout, or one file per object in a directory.
//!
//! The YAML is serde-saphyr's (it quotes strings YAML 1.1 would misread, `"yes"`, `"0777"`, and
//! prints multi-line strings as block scalars), written by our own emitter in [`yaml`]: calling
//! serde-saphyr per object cost ~75 instructions per output byte, most of a large render. The
//! emitter only fast-paths what it can prove serde-saphyr writes the same way and delegates every
//! other scalar to serde-saphyr; its tests compare it byte for byte with `serde_saphyr::to_string`
//! on every scenario render, tricky strings and random trees. Output is only written after the
//! whole render succeeded, so a failure never leaves partial output; its size is capped
//! ([`MAX_OUTPUT`], checked on a lower bound of the text before writing), so a few bytes of
//! values (a block copied into every pod) cannot make gigabytes of YAML. It is then written in
//! chunks as it is serialized, never held whole. The directory writer of `--output-dir`, which
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

/// A lower bound of the YAML text of `json`: every scalar, key and item separator it must
/// print, without indentation.
fn text_size(json: &serde_json::Value) -> usize {
    use serde_json::Value as Json;
    match json {
        Json::Null | Json::Bool(_) | Json::Number(_) => 4,
        Json::String(s) => s.len(),
        Json::Array(items) => items.iter().map(|item| 3 + text_size(item)).sum(),
        Json::Object(map) => map.iter().map(|(k, v)| k.len() + 3 + text_size(v)).sum(),
    }
}

/// Refuse a stream whose text is sure to exceed [`MAX_OUTPUT`], before a byte is written: a
/// shared list of init containers counts once per pod it goes into, as the writer copies it.
fn check_stream_size(objects: &[Object]) -> Result<()> {
    let mut total = 0usize;
    let mut shared: Vec<(&crate::object::SharedItems, usize)> = Vec::new();
    for object in objects {
        total += text_size(object.body());
        if let Some(splice) = &object.splice {
            let size = match shared
                .iter()
                .find(|(items, _)| std::sync::Arc::ptr_eq(items, &splice.items))
            {
                Some((_, size)) => *size,
                None => {
                    let size = splice.items.iter().map(text_size).sum();
                    shared.push((&splice.items, size));
                    size
                }
            };
            total += size;
        }
        check_size(total)?;
    }
    Ok(())
}

/// Bytes of YAML gathered before they are handed to the writer: small enough to stay in cache
/// (a large render writes megabytes), large enough for few system calls.
const CHUNK: usize = 128 * 1024;

/// Write all objects as one multi-document stream, each document led by `---`, in chunks. A
/// stream too large for [`MAX_OUTPUT`] is refused before the first byte goes to `out`.
pub fn write_stream(objects: &[Object], out: &mut impl Write) -> Result<()> {
    check_stream_size(objects)?;
    let mut chunk = String::with_capacity(2 * CHUNK);
    let mut shared = SharedText::default();
    for object in objects {
        chunk.push_str("---\n");
        push_yaml(&mut chunk, object, &mut shared)?;
        if chunk.len() >= CHUNK {
            out.write_all(chunk.as_bytes())?;
            chunk.clear();
        }
    }
    out.write_all(chunk.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Write bytes to stdout in one go.
pub fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()
}
