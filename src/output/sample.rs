//! A large release's values file, shared by the render benchmark and the YAML writer's oracle
//! test: 100 sensor partitions, 50 pack images, 50 extra hooks, an ingress with 20 hosts. It
//! exists for measurement and testing only; the CLI never reads it.

/// The large release as a values file (YAML text).
pub fn large_values() -> String {
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
