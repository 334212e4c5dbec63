#!/usr/bin/env bash
# Builds the runtime and the benchmarks, runs them with settings that fit a 2-core machine, prints the JMH table and
# the ratios ours / baseline (same run), and keeps both in results/jmh-<date>.txt (raw scores in results/jmh-<date>.json).
#
#   bench/run-jmh.sh                      # everything (about 7 minutes)
#   bench/run-jmh.sh SignatureBenchmark   # extra arguments go to JMH: a benchmark regex, -p payloadBytes=1024, ...
#   JMH_OPTS="-f 1 -wi 1 -i 1 -w 1s -r 1s" bench/run-jmh.sh   # smoke run (replaces the default settings)
#   SKIP_BUILD=1 bench/run-jmh.sh         # reuse bench/target/benchmarks.jar
#
# The runtime is built into MAIN_BUILD_DIR (default /tmp/build-bench-main), never into the checkout's target/, and
# installed into the local Maven repository as io.interchange:interchange:0.1.0-SNAPSHOT, which the benchmarks use.
set -euo pipefail

# shellcheck source=build.sh
source "$(dirname "${BASH_SOURCE[0]}")/build.sh"
# one fork, short warm-up and measurement: enough for steady state here, and the whole set stays under ~7 minutes
# shellcheck disable=SC2206
jmh_opts=(${JMH_OPTS:--f 1 -wi 3 -i 5 -w 2s -r 2s})


cd "$bench"
mkdir -p results
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="${load_before%% *}" 'BEGIN { exit !(l > 0.7) }'; then
  echo "WARNING: load average $load_before before the run: something else is using the CPUs; scores will be noisy" >&2
fi
stamp="$(date +%Y-%m-%d_%H%M%S)"
json="results/jmh-$stamp.json"
txt="results/jmh-$stamp.txt"
log="target/jmh-$stamp.log"
# -prof gc: gc.alloc.rate.norm (bytes/op); CpuTimeProfiler: cpu.time.norm (CPU ns/op, steadier than ops/s when
# something else runs on the machine); -foe: a benchmark whose setup check fails stops the run
cmd=(java -jar target/benchmarks.jar "${jmh_opts[@]}" -prof gc -prof io.interchange.bench.CpuTimeProfiler -foe true
     -rf json -rff "$json" "$@")

printf -v cmdline '%q ' "${cmd[@]}"
echo "== $cmdline"
# the runtime's logback.xml reads INTERCHANGE_LOG_LEVEL; WARN keeps PostgreSQL's start-up chatter out of the output
INTERCHANGE_LOG_LEVEL=WARN "${cmd[@]}" 2>&1 | tee "$log"

{
  echo "# Interchange JMH results, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# runtime commit: $(git -C "$main" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$main" diff --quiet HEAD -- src routes mappings pom.xml 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "# java: $(java -version 2>&1 | head -n 2 | tail -n 1)"
  echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
  echo "# load average before the run: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg) (the run itself adds about 1)"
  echo "# command (in bench/): INTERCHANGE_LOG_LEVEL=WARN $cmdline"
  echo
  # the summary table JMH prints last
  awk '/^Benchmark +(\(.*\) +)?Mode +Cnt/{p=1} p && !/^Benchmark result is saved/' "$log"
  echo
  echo "# Ratios (ours / baseline, same run)"
  java -cp target/benchmarks.jar io.interchange.bench.Ratios "$json"
} > "$txt"

echo
echo "== results: bench/$txt (raw: bench/$json, full log: bench/$log)"
echo
sed -n '/^# Ratios/,$p' "$txt"
