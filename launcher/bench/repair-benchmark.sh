#!/usr/bin/env bash
# Repair after a storage node dies, measured beside the disk's own speed (dd), on the disk holding BENCH_DIR.
# A control node (directory, coordinator, gateway) and 4 storage nodes run as separate processes; GiB worth
# of FILE_SIZE files go in with replicas=2; the storage node holding the most replicas gets SIGKILL; the
# script measures how long until it is DOWN, how long until every file has 2 live replicas again, and
# 4 KiB deposit latency before and during the repair. Prints one line per figure. Needs root (drop caches).
#
#   launcher/bench/repair-benchmark.sh [GiB]          # default 10
#   DEPOT_REPAIR_BYTES_PER_SECOND=67108864 FILE_SIZE=256MiB launcher/bench/repair-benchmark.sh 2
#
# The repair settings (DEPOT_REPAIR_STREAMS_PER_NODE, DEPOT_REPAIR_STREAMS_TOTAL, DEPOT_REPAIR_BYTES_PER_SECOND)
# are taken from the environment like every other DEPOT_* setting.
set -euo pipefail
cd "$(dirname "$0")/../.."
GIB=${1:-10}
JAR=launcher/target/depot.jar
[ -f "$JAR" ] || mvn -B -q install -DskipTests
BENCH_DIR=${BENCH_DIR:-/tmp/depot-repair-bench}
FILE_SIZE=${FILE_SIZE:-1GiB}
PORT=${PORT:-18080}
HZ_ARGS="--add-modules java.se --add-exports java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED"
rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR/logs"
export DEPOT_CONFIG_DIR="$BENCH_DIR/cli" DEPOT_SERVER="http://127.0.0.1:$PORT"
export DEPOT_CLUSTER_NAME="depot-repair-bench-$$" DEPOT_CLUSTER_PORT=7301 DEPOT_CLUSTER_MEMBERS=127.0.0.1
export DEPOT_ADMIN_TOKEN="repair-bench-$$"
depot() { java -jar "$JAR" "$@"; }
now() { date +%s.%N; }
api() { curl -sf -H "Authorization: Bearer $DEPOT_ADMIN_TOKEN" "$DEPOT_SERVER$1"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$BENCH_DIR-logs"; cp -r "$BENCH_DIR/logs" "$BENCH_DIR-logs" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$BENCH_DIR"
}
trap cleanup EXIT

launcher/bench/disk-speed.sh "$BENCH_DIR" 2

start_node() { # id conf heap [VAR=value...]
  local id=$1 conf=$2 heap=$3; shift 3
  env DEPOT_NODE_ID="$id" DEPOT_DATA_DIR="$BENCH_DIR/data/$id" "$@" \
    java -Xmx"$heap" $HZ_ARGS -jar "$JAR" node -cluster -conf "$conf" > "$BENCH_DIR/logs/$id.log" 2>&1 &
  PIDS+=($!)
  eval "PID_${id//-/_}=$!"
}
echo "== cluster: control node and 4 storage nodes, each its own JVM;" \
  "repairStreamsPerNode=${DEPOT_REPAIR_STREAMS_PER_NODE:-2} repairStreamsTotal=${DEPOT_REPAIR_STREAMS_TOTAL:-4}" \
  "repairBytesPerSecond=${DEPOT_REPAIR_BYTES_PER_SECOND:-268435456}"
start_node control conf/control.json 384m DEPOT_HTTP_PORT="$PORT"
for _ in $(seq 1 120); do curl -s -o /dev/null "$DEPOT_SERVER/health" && break; sleep 0.5; done
live_storage() { curl -s "$DEPOT_SERVER/health" | json 'print(d.get("liveStorageNodes", 0))' 2>/dev/null || echo 0; }
for i in 1 2 3 4; do # one at a time: a busy machine is spared a crowd of JVMs starting at once
  start_node "storage-$i" conf/storage.json 256m DEPOT_STORAGE_PORT=0
  for _ in $(seq 1 240); do [ "$(live_storage)" -ge "$i" ] && break; sleep 0.5; done
  [ "$(live_storage)" -ge "$i" ] || { echo "storage-$i did not come up; see $BENCH_DIR/logs (KEEP=1 keeps them)"; exit 1; }
done
sleep 2 # the coordinator's view of the storage nodes catches up once per heartbeat
depot login --nickname repair-bench > /dev/null

SIZE_BYTES=$(python3 -c "s='$FILE_SIZE'; u={'GiB':1<<30,'MiB':1<<20,'KiB':1<<10}; print(next(int(s[:-3])*v for k,v in u.items() if s.endswith(k)))")
FILES=$(( GIB * 1073741824 / SIZE_BYTES ))
echo "== deposit: $FILES files of $FILE_SIZE, replicas=2 (depot bench, 2 clients; failed deposits are made up for)"
stored_files() { api "/api/v1/files?limit=100000" | json "print(sum(1 for f in d['files'] if f['size'] == $SIZE_BYTES))"; }
for _ in 1 2 3; do
  MISSING=$(( FILES - $(stored_files) ))
  [ "$MISSING" -gt 0 ] || break
  depot bench --clients 2 --files "$MISSING" --size "$FILE_SIZE" --replicas 2 2>&1 | grep -E '^(deposit:|depot:)' || true
done
[ "$(stored_files)" -ge "$FILES" ] || { echo "could not deposit $FILES files"; exit 1; }

echo "== 4 KiB deposits, replicas=2, 2 clients, before the failure (after 200 to warm up; deleted afterwards)"
depot bench --clients 2 --files 400 --size 4KiB --replicas 2 --warmup 200 --cleanup 2>&1 | grep -E '^(deposit:|depot:)' | sed 's/^/before: /' || true

# The victim: the storage node holding the most bytes; what it held must be copied again.
api "/api/v1/files?limit=100000" > "$BENCH_DIR/files.json"
read -r VICTIM VICTIM_BYTES VICTIM_FILES < <(json '
from collections import Counter
b = Counter(); n = Counter()
for f in d["files"]:
    for node in f["nodes"]:
        b[node] += f["size"]; n[node] += 1
v, by = b.most_common(1)[0]
print(v, by, n[v])' < "$BENCH_DIR/files.json")
VICTIM_PID=$(eval echo "\$PID_${VICTIM//-/_}")
echo "== SIGKILL $VICTIM (pid $VICTIM_PID): it held $VICTIM_FILES replicas, $VICTIM_BYTES bytes"
T_KILL=$(now)
kill -9 "$VICTIM_PID"
wait "$VICTIM_PID" 2>/dev/null || true
while [ "$(api /api/v1/nodes | json "print(next((n['status'] for n in d['nodes'] if n['id']=='$VICTIM'), 'GONE'))")" = UP ]; do
  sleep 0.1
done
T_DOWN=$(now)
echo "detection: $VICTIM DOWN after $(python3 -c "print(f'{$T_DOWN - $T_KILL:.2f}')") s (nodeExpiryMs ${DEPOT_NODE_EXPIRY_MS:-4000})"

# Small deposits run all through the repair, one bench run after the other.
( while [ ! -f "$BENCH_DIR/repaired" ]; do
    depot bench --clients 2 --files 200 --size 4KiB --replicas 2 --cleanup 2>&1 | grep -E '^(deposit:|depot:)' || true
  done > "$BENCH_DIR/during.txt" 2>&1 ) &
LOAD=$!
PIDS+=($LOAD)

SEEN_UNDER=0; MAX_RUNNING=0
while true; do
  STATS=$(api /api/v1/stats || echo '{}')
  read -r UNDER LOST RUNNING < <(echo "$STATS" | json 'print(d.get("underReplicated", -1), d.get("lost", -1), d.get("repairsRunning", -1))')
  [ "$RUNNING" -gt "$MAX_RUNNING" ] && MAX_RUNNING=$RUNNING
  [ "$UNDER" -gt 0 ] && SEEN_UNDER=1
  if [ "$SEEN_UNDER" = 1 ] && [ "$UNDER" = 0 ] && [ "$LOST" = 0 ] && [ "$RUNNING" = 0 ]; then break; fi
  if python3 -c "import sys; sys.exit(0 if $(now) - $T_DOWN > 3600 else 1)"; then echo "repair: not done in an hour"; exit 1; fi
  sleep 0.2
done
T_DONE=$(now)
touch "$BENCH_DIR/repaired"
wait "$LOAD" || true
python3 - <<EOF
secs = $T_DONE - $T_DOWN
print(f"repair: {$VICTIM_FILES} replicas, {$VICTIM_BYTES / 2**30:.2f} GiB copied again in {secs:.1f} s after detection"
      f" ({$T_DONE - $T_KILL:.1f} s after the kill): {$VICTIM_BYTES / secs / 1e6:.0f} MB/s"
      f" ({$VICTIM_BYTES / secs / 2**20:.0f} MiB/s); at most $MAX_RUNNING repair copies seen at once")
EOF
echo "== 4 KiB deposits, replicas=2, 2 clients, during the repair (one line per bench run; the last may end after it)"
sed 's/^/during: /' "$BENCH_DIR/during.txt"
echo "== after: $(depot status | head -3 | tr -s ' ' | paste -sd ';' -)"
