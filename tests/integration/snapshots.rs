//! insta snapshots of every scenario's whole render (issue 3, item 6), with the fixed test seed
//! so generated secrets are stable. Inputs are `tests/scenarios/<name>/` (copied from the golden
//! renders' inputs; adding a scenario is adding a directory), snapshots live in `snapshots/`.
//! Review a change with `cargo insta review`, or accept all with `INSTA_UPDATE=always`.

use super::{Scenario, St2k8s};

#[test]
fn every_scenario_render_matches_its_snapshot() {
    let scenarios = Scenario::all();
    assert!(!scenarios.is_empty(), "no scenario under tests/scenarios");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for scenario in &scenarios {
            let run = scenario.render().run();
            run.assert_success();
            insta::assert_snapshot!(scenario.name.as_str(), run.stdout);
        }
    });
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
