# postStart hook (rabbitmq.clustering.rebalance): once this node has booted, spread the quorum
# queues' leaders over the cluster again. Bounded, because the pod is not Ready (and under
# OrderedReady the next pod does not start) until the hook returns, while a RabbitMQ 4 node
# restarting alone waits for its peers to boot: after the last check the hook gives the
# rebalance up, says so and succeeds. It never stops or resets the node.
set -eu

# The hook's own output is shown only when it fails: write to the container's log.
log() {
  echo "rebalance: $*" 2>/dev/null >>/proc/1/fd/1 || echo "rebalance: $*"
}

attempt=1
until timeout {{ check_timeout }} rabbitmq-diagnostics -q check_running >/dev/null 2>&1; do
  if [ "$attempt" -ge {{ attempts }} ]; then
    log "RabbitMQ has not finished booting after {{ attempts }} checks; queue leaders not rebalanced"
    exit 0
  fi
  log "waiting for RabbitMQ to finish booting (check $attempt of {{ attempts }})"
  attempt=$((attempt + 1))
  sleep {{ interval }}
done
if timeout {{ rebalance_timeout }} rabbitmq-queues rebalance all >/dev/null; then
  log "queue leaders rebalanced"
else
  log "rabbitmq-queues rebalance failed; queue leaders not rebalanced"
fi
