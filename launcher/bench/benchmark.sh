#!/usr/bin/env bash
# Depot's benchmark, run beside the disk's own speed (dd) in one go, on the disk holding BENCH_DIR.
# Prints one line per figure. Needs root for dropping the page cache (cold reads).
#
#   launcher/bench/benchmark.sh            # BENCH_DIR=/tmp/depot-bench, 1 GiB files, 5000 small files
#   BENCH_DIR=/data/x SMALL_FILES=20000 launcher/bench/benchmark.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=launcher/target/depot.jar
[ -f "$JAR" ] || mvn -B -q package -DskipTests
BENCH_DIR=${BENCH_DIR:-/tmp/depot-bench}
SMALL_FILES=${SMALL_FILES:-5000}
HEAP=${HEAP:-384m}
PORT=${PORT:-18080}
rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR"
export DEPOT_CONFIG_DIR="$BENCH_DIR/cli" DEPOT_SERVER="http://127.0.0.1:$PORT"
export DEPOT_CLUSTER_NAME="depot-bench-$$" DEPOT_CLUSTER_PORT=7201
depot() { java -jar "$JAR" "$@"; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
mbps() { python3 -c "print(f'{$1/$2/1e6:.1f}')"; }

echo "== disk: dd on $(df --output=source "$BENCH_DIR" | tail -1)"
DD_W=$(dd if=/dev/zero of="$BENCH_DIR/dd.bin" bs=1M count=1024 conv=fdatasync 2>&1 | tail -1)
drop_caches
DD_R=$(dd if="$BENCH_DIR/dd.bin" of=/dev/null bs=1M 2>&1 | tail -1)
rm -f "$BENCH_DIR/dd.bin"
echo "dd write 1 GiB fdatasync: $DD_W"
echo "dd read 1 GiB cold:       $DD_R"

echo "== cluster: depot dev, 3 storage nodes, heap $HEAP for the whole cluster JVM"
java -Xmx"$HEAP" -jar "$JAR" dev --data "$BENCH_DIR/cluster" --port "$PORT" > "$BENCH_DIR/dev.log" 2>&1 &
DEV=$!
trap 'kill $DEV 2>/dev/null; wait $DEV 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "$DEPOT_SERVER/health" >/dev/null 2>&1 && break; sleep 0.5; done
depot login --nickname bench >/dev/null

echo "== 1 GiB deposit, replicas=3 (generated content, streamed)"
depot bench --clients 1 --files 1 --size 1GiB --replicas 3 | grep '^deposit:'

echo "== 1 GiB retrieve, page cache dropped"
head -c 1073741824 /dev/urandom > "$BENCH_DIR/big.bin"
depot deposit "$BENCH_DIR/big.bin" --name big.bin --replicas 3 >/dev/null
drop_caches
T0=$(date +%s.%N); depot retrieve big.bin -o - > /dev/null; T1=$(date +%s.%N)
echo "retrieve cold: $(mbps 1073741824 "$(echo "$T1 - $T0" | bc)") MB/s ($(echo "$T1 - $T0" | bc) s, CLI verifies SHA-256)"

echo "== re-deposit of the held 1 GiB file"
T0=$(date +%s.%N); SHA=$(sha256sum "$BENCH_DIR/big.bin" | cut -d' ' -f1); T1=$(date +%s.%N)
TOKEN=$(python3 -c "import json,sys;print(json.load(open('$DEPOT_CONFIG_DIR/credentials.json'))['token'])")
SERVER_S=$(curl -s -o /dev/null -w '%{time_total}' -T "$BENCH_DIR/big.bin" -H "Expect: 100-continue" \
  -H "X-Depot-Sha256: $SHA" -H "Authorization: Bearer $TOKEN" "$DEPOT_SERVER/api/v1/files/again.bin?replicas=3")
echo "hashing (sha256sum): $(echo "$T1 - $T0" | bc) s; deposit beyond hashing: $(python3 -c "print(f'{$SERVER_S*1000:.1f}')") ms"
T0=$(date +%s.%N); depot deposit "$BENCH_DIR/big.bin" --name again2.bin >/dev/null; T1=$(date +%s.%N)
echo "depot deposit (CLI, hashing included): $(echo "$T1 - $T0" | bc) s"

echo "== $SMALL_FILES files of 4 KiB, replicas=3, 8 concurrent clients"
depot bench --clients 8 --files "$SMALL_FILES" --size 4KiB --replicas 3 --warmup 500 | grep '^deposit:'

echo "== heap after all this (the cluster JVM had -Xmx$HEAP)"
curl -s "$DEPOT_SERVER/metrics" | grep -E '^jvm_memory_used_bytes\{area="heap"' | awk '{s+=$2} END {printf "heap used now: %.0f MiB\n", s/1048576}'
