#!/usr/bin/env bash
# Build and test-phase times for the module structure (issue: tests follow modules): the
# incremental `swift build --build-tests` after touching one file in each of Basics, Checks,
# BotOpsKit and botops, then the parallel (pure) phase of scripts/test run alone. Prints one
# markdown row per figure, with the machine's cores and load average beside it, since on a shared
# machine the load decides most of the figure. Run after a full build, with the sandbox up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/swift-env
label=${1:-$(git rev-parse --short HEAD)}
log=${TMPDIR:-/tmp}/structure-times-$label.log; : >"$log"
row() { printf '| %s | %s | %s | %.0f s | %s | %s |\n' "$label" "$1" "$(nproc)" "$2" "$3" "$(cut -d' ' -f1-3 /proc/loadavg)"; }
seconds() { local start=$(date +%s.%N); "$@" >>"$log" 2>&1; local status=$?; echo "$(date +%s.%N) - $start" | bc; return $status; }
for file in Sources/Basics/Formatting.swift Sources/Checks/CheckRunner.swift Sources/BotOpsKit/Config.swift Sources/botops/Ping.swift; do
  touch "$file"
  t=$(seconds swift build --build-tests) && verdict=ok || verdict=failed
  row "build after touching $file" "$t" "$verdict"
done
# The parallel phase as scripts/test runs it (its filter read from the script, so it follows it).
eval "$(grep -E "^sandbox_(targets|tests)=" scripts/test)"
t=$(BOTOPS_REQUIRE_SANDBOX=1 seconds swift test --skip-build --skip "$sandbox_tests") && verdict=passed || verdict=failed
row "parallel phase (swift test --skip-build --skip sandbox suites)" "$t" "$verdict"
