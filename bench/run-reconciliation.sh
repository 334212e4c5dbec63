#!/usr/bin/env bash
# Reconciliation at scale: one day of 1,000,000 invoices a side (billing list API, S/4HANA item cube, confirmations)
# reconciled by the packaged runtime in its own JVM with -Xmx256m on a durable embedded PostgreSQL, with two baselines
# in the same run (reading both sides only; COPY + FULL OUTER JOIN in plain JDBC). See README.md, "Reconciliation".
#
#   bench/run-reconciliation.sh                    # 1,000,000 a side
#   bench/run-reconciliation.sh --count 100000     # a smaller day
#   SKIP_BUILD=1 bench/run-reconciliation.sh ...   # reuse the jars built last time
#
# Writes bench/results/reconciliation-<date>.txt, the runtime's log and its GC log beside it.
set -euo pipefail

# shellcheck source=build.sh
source "$(dirname "${BASH_SOURCE[0]}")/build.sh"

warn_if_busy
cd "$bench"
# the harness holds the S/4HANA peer's million entries: it needs the heap the runtime under test is refused
INTERCHANGE_LOG_LEVEL=WARN java -Xmx6g -Dinterchange.jar="$main_build_dir/interchange.jar" \
  -cp target/benchmarks.jar io.interchange.bench.e2e.ReconciliationScale --out results \
  --invoice "$main/src/test/resources/stripe/dahlia/invoice-finalized-basic.json" "$@"
