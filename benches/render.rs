//! Render benchmarks, split by stage so a regression shows where it happened: loading and merging
//! values, building objects, and serializing them. Two inputs: the built-in defaults, and a large
//! release (100 sensor partitions, 50 pack images, 50 extra hooks, an ingress with 20 hosts).
//! The embedded defaults are parsed once per process, so after the first iteration "load+merge"
//! measures the user layers and the merge; the one-time parse shows in a whole-process run.

use criterion::{Criterion, criterion_group, criterion_main};
use st2k8s::render::{self, Options, Release};
use st2k8s::values::{self, Layer};

/// The large release as a values file.
fn large_values() -> String {
    let mut text =
        String::from("st2sensorcontainer:\n  deployments: 100\nst2:\n  packs:\n    images:\n");
    for i in 0..50 {
        text.push_str(&format!(
            "      - repository: registry.example.com/packs\n        name: pack{i}\n        tag: \"1.{i}\"\n        pullPolicy: IfNotPresent\n"
        ));
    }
    text.push_str("jobs:\n  extra_hooks:\n");
    for i in 0..50 {
        text.push_str(&format!(
            "    - name: hook{i}\n      hook: post-install\n      hook_weight: {i}\n      command: [\"st2\", \"run\", \"core.echo\", \"message=hook{i}\"]\n"
        ));
    }
    text.push_str("ingress:\n  enabled: true\n  hosts:\n");
    for i in 0..20 {
        text.push_str(&format!(
            "    - host: st2-{i}.example.com\n      paths:\n        - path: /\n          serviceName: st2-st2web\n          servicePort: 80\n"
        ));
    }
    text
}

fn bench_case(c: &mut Criterion, name: &str, layers: &[Layer]) {
    let release = Release {
        name: "st2".into(),
        namespace: "default".into(),
    };
    let options = Options::default();
    let mut group = c.benchmark_group(name);
    group.bench_function("load+merge values", |b| {
        b.iter(|| values::load(layers).expect("values load"))
    });
    let loaded = values::load(layers).expect("values load");
    group.bench_function("build objects", |b| {
        b.iter(|| render::render(&loaded.values, &release, &options).expect("render"))
    });
    let objects = render::render(&loaded.values, &release, &options).expect("render");
    group.bench_function("serialize", |b| {
        b.iter(|| st2k8s::output::to_yaml_stream(&objects).expect("serialize"))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_case(c, "default", &[]);
    let large = [Layer::File {
        name: "large.yaml".into(),
        text: large_values(),
    }];
    bench_case(c, "large", &large);
}

criterion_group!(render_benches, benches);
criterion_main!(render_benches);
