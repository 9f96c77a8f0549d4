#!/usr/bin/env bash
# The disk's own speed under DIR: RUNS times a 1 GiB dd write (fdatasync) and a cold read (page cache
# dropped), of random bytes (zeros flatter a virtual disk). Needs root. Used by the benchmark scripts.
#
#   launcher/bench/disk-speed.sh DIR [RUNS]
set -euo pipefail
DIR=$1
RUNS=${2:-3}
echo "== disk: dd on $(df --output=source "$DIR" | tail -1), 1 GiB of random bytes (zeros flatter a virtual disk)"
head -c 1073741824 /dev/urandom > "$DIR/random.bin"
for i in $(seq 1 "$RUNS"); do
  cat "$DIR/random.bin" > /dev/null
  echo "dd write, fdatasync, run $i: $(dd if="$DIR/random.bin" of="$DIR/dd.bin" bs=1M conv=fdatasync 2>&1 | tail -1)"
  sync; echo 3 > /proc/sys/vm/drop_caches
  echo "dd read, cold,        run $i: $(dd if="$DIR/dd.bin" of=/dev/null bs=1M 2>&1 | tail -1)"
  rm -f "$DIR/dd.bin"
done
rm -f "$DIR/random.bin"
