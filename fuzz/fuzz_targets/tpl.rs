//! Helm `tpl` of an arbitrary values string, over the default values and a fixed release.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use st2k8s::render::Release;
use st2k8s::tpl::{Scope, render};
use st2k8s::values::{Value, load};

static VALUES: LazyLock<Value> =
    LazyLock::new(|| load(&[]).map(|l| l.values).unwrap_or(Value::Null));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let release = Release {
        name: "st2".into(),
        namespace: "default".into(),
    };
    let _ = render(text, &Scope::new(&VALUES, &release), "fuzz.key");
});
