#!/usr/bin/env bash
# Sourced by run-jmh.sh and run-e2e.sh: builds the runtime into MAIN_BUILD_DIR (default /tmp/build-bench-main), never
# into the checkout's target/, installs it into the local Maven repository (the benchmarks depend on it), and builds
# bench/target/benchmarks.jar. SKIP_BUILD=1 reuses what the last build left.
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
main="$(dirname "$bench")"
main_build_dir="${MAIN_BUILD_DIR:-/tmp/build-bench-main}"

mvn_build() { # offline first; online once if a dependency (JMH, camel-sql) is not in the local repository yet
  mvn -B -q -o "$@" || { echo "offline build failed; retrying online" >&2; mvn -B -q "$@"; }
}

if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "== building the runtime (into $main_build_dir) and installing it"
  (cd "$main" && mvn_build install -DskipTests -Dbuild.dir="$main_build_dir")
  echo "== building bench/target/benchmarks.jar"
  (cd "$bench" && mvn_build package)
fi
