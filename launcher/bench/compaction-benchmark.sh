#!/usr/bin/env bash
# Pack compaction beside deposits: a dev cluster (3 storage nodes, packs sealed at 512 MiB) takes FILES files
# of 200 KiB with replicas=3, two thirds are deleted, and one client deposits 4 KiB files one after another
# while each node copies its pack's live records forward. Prints deposits per second and when each node
# finished compacting. The limit comes from the environment like every DEPOT_* setting:
#
#   launcher/bench/compaction-benchmark.sh                                      # the default, 32 MiB/s
#   DEPOT_PACK_COMPACTION_BYTES_PER_SECOND=0 launcher/bench/compaction-benchmark.sh   # no limit
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=launcher/target/depot.jar
[ -f "$JAR" ] || mvn -B -q install -DskipTests
BENCH_DIR=${BENCH_DIR:-/tmp/depot-compaction-bench}
FILES=${FILES:-3000}
PORT=${PORT:-18080}
rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR"
export DEPOT_CLUSTER_NAME="depot-compaction-bench-$$" DEPOT_CLUSTER_PORT=7401
# Packs sealed at 512 MiB, deleted replicas removed after 1 s, a compaction check every 2 s: the pack
# filled here is compacted within seconds of the deletions.
DEPOT_PACK_ROLL_BYTES=536870912 DEPOT_GC_GRACE_MS=1000 DEPOT_PACK_COMPACTION_INTERVAL_MS=2000 \
  java -Xmx384m -jar "$JAR" dev --data "$BENCH_DIR/cluster" --port "$PORT" > "$BENCH_DIR/dev.log" 2>&1 &
DEV=$!
trap 'kill $DEV 2>/dev/null; wait $DEV 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.5; done
echo "limit: ${DEPOT_PACK_COMPACTION_BYTES_PER_SECOND:-33554432 (default)} bytes/s"
python3 launcher/bench/compaction-probe.py "$PORT" "$FILES" 25
grep -E "compacted pack|compaction failed" "$BENCH_DIR/dev.log" | sed -E 's/ (INFO|ERROR) +\[[^]]*\] [^ ]+ - [^ ]*cluster\// /'
