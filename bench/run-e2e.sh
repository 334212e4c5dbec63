#!/usr/bin/env bash
# End-to-end benchmark: Interchange against the same flows on plain Camel defaults and a hand-written baseline, side
# by side in one run, on a durable embedded PostgreSQL and an embedded Kafka broker (see README.md, "End to end").
#
#   bench/run-e2e.sh                                   # everything: 3 repetitions, 1,000,000 events to drain (~60 min)
#   bench/run-e2e.sh --scenarios ingest --reps 1       # one scenario, one repetition
#   bench/run-e2e.sh --drain-events 200000             # a shorter drain
#   SKIP_BUILD=1 bench/run-e2e.sh ...                  # reuse the jars built last time
#
# Prints the table and writes it to bench/results/e2e-<date>.txt. The runtime is built into MAIN_BUILD_DIR (default
# /tmp/build-bench-main), never into the checkout's target/, and started from there as a separate process.
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
main="$(dirname "$bench")"
main_build_dir="${MAIN_BUILD_DIR:-/tmp/build-bench-main}"

mvn_build() { # offline first; online once if a dependency is not in the local repository yet
  mvn -B -q -o "$@" || { echo "offline build failed; retrying online" >&2; mvn -B -q "$@"; }
}

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "== building the runtime (into $main_build_dir) and installing it"
  (cd "$main" && mvn_build install -DskipTests -Dbuild.dir="$main_build_dir")
  echo "== building bench/target/benchmarks.jar"
  (cd "$bench" && mvn_build package)
fi

load="$(cut -d' ' -f1 /proc/loadavg)"
if awk -v l="$load" 'BEGIN { exit !(l > 0.7) }'; then
  echo "WARNING: load average $load before the run: something else is using the CPUs; figures will be noisy" >&2
fi
cd "$bench"
# WARN keeps the harness's own broker and database chatter out of the table; the systems under test log as shipped
INTERCHANGE_LOG_LEVEL=WARN java -Xmx4g -Dinterchange.jar="$main_build_dir/interchange.jar" \
  -cp target/benchmarks.jar io.interchange.bench.e2e.EndToEnd --out results "$@"
