#!/bin/bash
# Stand-in for the Python services: logs a start line, reports healthy, runs until stopped.
name=$1
trap 'echo "$name stopping"; exit 0' TERM INT
echo "$name started version=$(cat /app/VERSION) snapshot_id=$(cat /proc/sys/kernel/random/uuid)"
touch /tmp/healthy
while true; do sleep 1; done
