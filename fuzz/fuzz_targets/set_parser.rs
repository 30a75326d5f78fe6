//! `--set`-family parser: every flag kind on arbitrary argument text, applied over a small
//! existing map (as a `-f` file would have left it). Any outcome but a panic or hang is fine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use st2k8s::values::{Map, SetKind, Value, apply_set};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the flag, the rest is the argument as typed.
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(arg) = std::str::from_utf8(rest) else {
        return;
    };
    let kind = match selector % 5 {
        0 => SetKind::Set,
        1 => SetKind::String,
        2 => SetKind::Json,
        3 => SetKind::Literal,
        // `--set-file` reads the named file; only the parser is under test, so relative
        // names (which do not exist in the fuzz directory) are enough.
        _ if arg.contains('/') => return,
        _ => SetKind::File,
    };
    let mut dst = Map::new();
    dst.insert("a".into(), Value::List(vec![Value::Int(1), Value::Null]));
    let mut inner = Map::new();
    inner.insert("b".into(), Value::String("x".into()));
    dst.insert("m".into(), Value::Map(inner));
    let _ = apply_set(&mut dst, kind, arg);
});
