//! Render benchmarks, split by stage so a regression shows where it happened: loading and merging
//! values, building objects, and serializing them. Two inputs: the built-in defaults, and a large
//! release (`bench/large.yaml`: 100 sensor partitions, 50 pack images, 50 extra hooks, an
//! ingress with 20 hosts).
//! The embedded defaults are parsed once per process, so after the first iteration "load+merge"
//! measures the user layers and the merge; the one-time parse shows in a whole-process run.

use criterion::{Criterion, criterion_group, criterion_main};
use st2k8s::release::Release;
use st2k8s::render::{self, Options};
use st2k8s::values::{self, Layer};

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
        b.iter(|| st2k8s::output::write_stream(&objects, &mut std::io::sink()).expect("serialize"))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_case(c, "default", &[]);
    let large = [Layer::File {
        name: "bench/large.yaml".into(),
        text: include_str!("../bench/large.yaml").into(),
    }];
    bench_case(c, "large", &large);
}

criterion_group!(render_benches, benches);
criterion_main!(render_benches);
