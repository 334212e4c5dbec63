#!/usr/bin/env bash
# Sourced by run-jmh.sh and run-e2e.sh: builds the runtime into MAIN_BUILD_DIR (default /tmp/build-bench-main), never
# into the checkout's target/, installs it into the local Maven repository (the benchmarks depend on it), and builds
# bench/target/benchmarks.jar. SKIP_BUILD=1 reuses what the last build left.
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
main="$(dirname "$bench")"
main_build_dir="${MAIN_BUILD_DIR:-/tmp/build-bench-main}"

warn_if_busy() { # figures taken while something else uses the CPUs are noisy: say so before the run
  local load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  if awk -v l="$load" 'BEGIN { exit !(l > 0.7) }'; then
    echo "WARNING: load average $load before the run: something else is using the CPUs; figures will be noisy" >&2
  fi
}

mvn_build() { # offline first; online once if a dependency (JMH, camel-sql) is not in the local repository yet
  mvn -B -q -o "$@" || { echo "offline build failed; retrying online" >&2; mvn -B -q "$@"; }
}

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "== building the runtime (into $main_build_dir) and installing it"
  (cd "$main" && mvn_build install -DskipTests -Dbuild.dir="$main_build_dir")
  echo "== building bench/target/benchmarks.jar"
  (cd "$bench" && mvn_build package)
fi
