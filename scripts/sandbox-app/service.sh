#!/bin/bash
# Stand-in for the Python services: logs a start line, reports healthy, runs until stopped.
# Files in /app/faults (faults/README) make a release misbehave, for the deploy tests.
name=$1
fault() { [ -e "/app/faults/$name.$1" ]; }
if fault exit-at-start; then
  echo "$name: cannot start: configuration error (injected fault)" >&2
  exit 1
fi
if fault ignore-sigterm; then
  trap '' TERM
else
  trap 'echo "$name stopping"; exit 0' TERM INT
fi
echo "$name started version=$(cat /app/VERSION) snapshot_id=$(cat /proc/sys/kernel/random/uuid)"
fault unhealthy || touch /tmp/healthy
while true; do sleep 1; done
