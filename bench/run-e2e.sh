#!/usr/bin/env bash
# End-to-end benchmark: Interchange against the same flows on plain Camel defaults and a hand-written baseline, side
# by side in one run, on a durable embedded PostgreSQL and an embedded Kafka broker (see README.md, "End to end").
#
#   bench/run-e2e.sh                                   # everything: 3 repetitions, 1,000,000 events to drain (~60 min),
#                                                      # then 100,000 postings to S/4HANA per variant
#   bench/run-e2e.sh --scenarios ingest --reps 1       # one scenario, one repetition
#   bench/run-e2e.sh --drain-events 200000             # a shorter drain
#   bench/run-e2e.sh --scenarios post --reps 1 --post-events 20000
#                                                      # ERP posting only: canonical invoices to SAP journal entries
#                                                      # at the in-process S/4HANA peer (default 100,000 postings,
#                                                      # --post-cap-seconds 300, --post-bulk 50, --post-threads 6)
#   bench/run-e2e.sh --scenarios customers --reps 1 --customer-changes 2000
#                                                      # customer sync: Salesforce account changes to Stripe, S/4HANA
#                                                      # or legacy ERP, loyalty and back to Salesforce, peers answering
#                                                      # in 20-50 ms (--customer-cap-seconds 180, --customer-rate 200)
#   bench/run-e2e.sh --scenarios loyalty --reps 1 --loyalty-events 20000
#                                                      # loyalty transactions to S/4HANA journal entries: real time
#                                                      # (vs plain Camel and hand-written) and daily filing (vs a loop
#                                                      # posting one entry per 400; --loyalty-close-seconds 60)
#   SKIP_BUILD=1 bench/run-e2e.sh ...                  # reuse the jars built last time
#
# Prints the table and writes it to bench/results/e2e-<date>.txt. The runtime is built into MAIN_BUILD_DIR (default
# /tmp/build-bench-main), never into the checkout's target/, and started from there as a separate process.
set -euo pipefail

# shellcheck source=build.sh
source "$(dirname "${BASH_SOURCE[0]}")/build.sh"

warn_if_busy
cd "$bench"
# WARN keeps the harness's own broker and database chatter out of the table; the systems under test log as shipped
# (ServerProcess does not pass this level on to them)
INTERCHANGE_LOG_LEVEL=WARN java -Xmx4g -Dinterchange.jar="$main_build_dir/interchange.jar" \
  -cp target/benchmarks.jar io.interchange.bench.e2e.EndToEnd --out results "$@"
