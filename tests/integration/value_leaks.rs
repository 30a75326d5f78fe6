//! No value ever appears in an error or a warning: any value may be a secret, so messages name
//! the values key (and the field inside a block), the expected type or the allowed choices, and
//! the kind of what was found, never the value itself. Each row plants a sentinel where a
//! message once quoted the value, and both `render` and `lint` must report the key without it.

use crate::St2k8s;

const SENTINEL: &str = "S3CRET-SENTINEL";
/// The sentinel for places that only take numbers.
const NUMBER: &str = "987654321";

/// (values file, key path the message must name).
const ROWS: &[(&str, &str)] = &[
    // The backend flavors and the official flavors' own checks.
    ("redis:\n  flavor: S3CRET-SENTINEL\n", "`redis.flavor`"),
    (
        "redis:\n  flavor: official\n  clusterDomain: S3CRET-SENTINEL$(x)\n",
        "`redis.clusterDomain`",
    ),
    (
        "redis:\n  flavor: official\n  usePassword: true\n  password: \"S3CRET-SENTINEL\\nreplicaof x 1\"\n",
        "`redis.password`",
    ),
    (
        "rabbitmq:\n  flavor: official\n  ldap:\n    enabled: true\n    user_dn_pattern: \"S3CRET-SENTINEL\\nx = 1\"\n",
        "`rabbitmq.ldap.user_dn_pattern`",
    ),
    (
        "image:\n  tag: '3.9'\nmongodb:\n  flavor: official\n  auth:\n    username: S3CRET-SENTINEL$(MONGODB_ROOT_PASSWORD)\n",
        "`mongodb.auth.username`",
    ),
    (
        "image:\n  tag: '3.9'\nmongodb:\n  flavor: official\n  official:\n    version: S3CRET-SENTINEL\n",
        "`mongodb.official.version`",
    ),
    // The values type check.
    (
        "st2web:\n  replicas: S3CRET-SENTINEL\n",
        "`st2web.replicas`",
    ),
    ("st2web:\n  replicas: 987654321.5\n", "`st2web.replicas`"),
    (
        "st2:\n  rbac:\n    enabled: S3CRET-SENTINEL\n",
        "`st2.rbac.enabled`",
    ),
    (
        "st2:\n  rbac:\n    enabled: 987654321\n",
        "`st2.rbac.enabled`",
    ),
    ("st2web:\n  env: S3CRET-SENTINEL\n", "`st2web.env`"),
    (
        "st2:\n  packs:\n    images: [987654321]\n",
        "`st2.packs.images[0]`",
    ),
    // Blocks that do not fit their Kubernetes type.
    (
        "st2web:\n  securityContext:\n    runAsUser: S3CRET-SENTINEL\n",
        "`st2web.securityContext.runAsUser`",
    ),
    (
        "st2web:\n  securityContext:\n    seLinuxOptions:\n      user: 987654321\n",
        "`st2web.securityContext.seLinuxOptions.user`",
    ),
    (
        "networkPolicy:\n  enabled: true\n  apiClients:\n    - ipBlock:\n        cidr: 987654321\n",
        "`networkPolicy.apiClients[0].ipBlock.cidr`",
    ),
    (
        "redis:\n  slave:\n    tolerations:\n      - key: a\n        tolerationSeconds: S3CRET-SENTINEL\n",
        "`redis.slave.tolerations[0].tolerationSeconds`",
    ),
    (
        "redis:\n  slave:\n    affinity:\n      nodeAffinity: 987654321\n",
        "`redis.slave.affinity.nodeAffinity`",
    ),
    (
        "redis:\n  containerSecurityContext:\n    enabled: true\n    seLinuxOptions:\n      user: 987654321\n",
        "`redis.containerSecurityContext.seLinuxOptions.user`",
    ),
    (
        "st2web:\n  resources:\n    limits:\n      memory: S3CRET-SENTINEL\n",
        "`st2web.resources.limits.memory`",
    ),
    // Numbers out of range.
    (
        "jobs:\n  ttlSecondsAfterFinished: 987654321987\n",
        "`jobs.ttlSecondsAfterFinished`",
    ),
    (
        "st2sensorcontainer:\n  deployments: 987654321\n",
        "`st2sensorcontainer.deployments`",
    ),
    (
        "podDisruptionBudgets:\n  enabled: true\n  minAvailable: S3CRET-SENTINEL\n",
        "`podDisruptionBudgets.minAvailable`",
    ),
    (
        "st2api:\n  autoscaling:\n    enabled: true\n    minReplicas: 987654321\n    maxReplicas: 3\n    targetCPUUtilizationPercentage: 80\n",
        "`st2api.autoscaling.minReplicas`",
    ),
    (
        "st2api:\n  autoscaling:\n    enabled: true\n    maxReplicas: 3\n    targetCPUUtilizationPercentage: 987654321987\n",
        "`st2api.autoscaling.targetCPUUtilizationPercentage`",
    ),
    (
        "redis:\n  sentinel:\n    port: S3CRET-SENTINEL\n",
        "`redis.sentinel.port`",
    ),
    (
        "mongodb:\n  replicaCount: S3CRET-SENTINEL\n",
        "`mongodb.replicaCount`",
    ),
    (
        "rabbitmq:\n  replicaCount: S3CRET-SENTINEL\n",
        "`rabbitmq.replicaCount`",
    ),
    // Closed sets: the message names the choices, not the input.
    ("podSecurity: S3CRET-SENTINEL\n", "`podSecurity`"),
    (
        "mongodb:\n  architecture: S3CRET-SENTINEL\n",
        "`mongodb.architecture`",
    ),
    (
        "st2:\n  ssh_key_type: S3CRET-SENTINEL\n",
        "`st2.ssh_key_type`",
    ),
    ("st2:\n  version: S3CRET-SENTINEL\n", "`st2.version`"),
    (
        "rabbitmq:\n  memoryHighWatermark:\n    enabled: true\n    type: S3CRET-SENTINEL\n",
        "`rabbitmq.memoryHighWatermark.type`",
    ),
    (
        "ingress:\n  enabled: true\n  hosts:\n    - host: a.example\n      paths:\n        - path: /\n          serviceName: st2web\n          servicePort: 80\n          pathType: S3CRET-SENTINEL\n",
        "pathType`",
    ),
    // File contents that are not text.
    (
        "st2:\n  overrides:\n    a.yaml: 987654321\n",
        "`st2.overrides.a.yaml`",
    ),
];

#[test]
fn messages_name_the_key_never_the_value() {
    for (values, key) in ROWS {
        // `lint` lists its findings on stdout; `render` prints objects there, which hold values.
        for (command, findings_on_stdout) in [(St2k8s::render(), false), (St2k8s::lint(), true)] {
            let run = command.seeded().values("custom.yaml", values).run();
            let printed = if findings_on_stdout {
                format!("{}{}", run.stderr, run.stdout)
            } else {
                run.stderr
            };
            assert!(
                printed.contains(key),
                "{values}: should name {key}: {printed}"
            );
            for sentinel in [SENTINEL, NUMBER] {
                assert!(
                    !printed.contains(sentinel),
                    "{values}: the value leaked: {printed}"
                );
            }
        }
    }
}
