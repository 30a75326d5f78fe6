//! The whole user path: arbitrary bytes as a `-f` values file, loaded over the defaults, rendered
//! and serialized. Errors are expected; a panic or hang is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use st2k8s::render::{Options, Release, render};
use st2k8s::secrets::Seed;
use st2k8s::values::{Layer, load};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let layers = [Layer::File {
        name: "fuzz.yaml".into(),
        text: text.to_string(),
    }];
    let Ok(loaded) = load(&layers) else {
        return;
    };
    let release = Release {
        name: "st2".into(),
        namespace: "default".into(),
    };
    // A fixed seed: generated secrets are derived, not drawn at random, so runs reproduce.
    let Ok(seed) = Seed::from_bytes(b"fuzzing-seed-fuzzing-seed-fuzzing".to_vec(), "fuzz") else {
        return;
    };
    let options = Options {
        include_tests: true,
        secret_seed: Some(seed),
        ..Options::default()
    };
    if let Ok(objects) = render(&loaded.values, &release, &options) {
        let _ = st2k8s::output::to_yaml_stream(&objects);
    }
});
