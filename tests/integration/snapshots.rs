//! insta snapshots of every scenario's whole render, with the fixed test seed so generated
//! secrets are stable. Inputs are `tests/scenarios/<name>/` (the inputs of the chart's golden
//! renders), snapshots live in `snapshots/`. Each scenario is its own test, so one mismatch does not
//! hide the others. Review a change with `cargo insta review` (`cargo install cargo-insta`), or
//! accept all with `INSTA_UPDATE=always cargo test`.

use super::{Scenario, St2k8s};

/// Compare one scenario's render with its snapshot.
fn assert_scenario_snapshot(name: &str) {
    let scenario = Scenario::named(name);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        let run = scenario.render().run();
        run.assert_success();
        insta::assert_snapshot!(scenario.name.as_str(), run.stdout);
    });
}

/// One snapshot test per scenario directory; [`every_scenario_has_a_snapshot_test`] keeps this
/// list and `tests/scenarios/` in step.
macro_rules! scenario_snapshots {
    ($($test:ident => $name:literal,)*) => {
        const SNAPSHOT_SCENARIOS: &[&str] = &[$($name),*];
        $(
            #[test]
            fn $test() {
                assert_scenario_snapshot($name);
            }
        )*
    };
}

mod snapshot {
    use super::assert_scenario_snapshot;

    scenario_snapshots! {
        backends_replicaset => "backends-replicaset",
        bundled_backends => "bundled-backends",
        chatops_jobs => "chatops-jobs",
        components_tuning => "components-tuning",
        credentials_datastore => "credentials-datastore",
        default => "default",
        env_volumes_lifecycle => "env-volumes-lifecycle",
        existing_secrets_config => "existing-secrets-config",
        external_backends => "external-backends",
        images_registry => "images-registry",
        ingress_loadbalancer => "ingress-loadbalancer",
        packs_images_configs => "packs-images-configs",
        packs_volumes => "packs-volumes",
        rbac_serviceaccount => "rbac-serviceaccount",
        security_dns => "security-dns",
        sensors_hash_partitions => "sensors-hash-partitions",
        sensors_one_per_pod => "sensors-one-per-pod",
    }

    #[test]
    fn every_scenario_has_a_snapshot_test() {
        let dirs: Vec<String> = super::Scenario::all().into_iter().map(|s| s.name).collect();
        assert_eq!(
            dirs, SNAPSHOT_SCENARIOS,
            "add a line to `scenario_snapshots!` for each directory under tests/scenarios"
        );
    }
}

#[test]
fn same_seed_renders_are_byte_identical() {
    for scenario in Scenario::all() {
        let first = scenario.render().run();
        first.assert_success();
        let second = scenario.render().run();
        assert!(
            first.stdout == second.stdout,
            "{}: two seeded renders differ",
            scenario.name
        );
    }
    // And a different seed does change the generated secrets.
    let other = St2k8s::render()
        .env("ST2K8S_SECRET_SEED", "a different seed for this test")
        .run();
    let seeded = St2k8s::render().seeded().run();
    assert_ne!(other.stdout, seeded.stdout);
}
