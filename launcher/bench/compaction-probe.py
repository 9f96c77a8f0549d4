#!/usr/bin/env python3
"""Part of compaction-benchmark.sh: fills packs with 200 KiB files, deletes two of every three, then deposits
4 KiB files one after another for SECONDS and prints, per second, how many went in and the slowest."""
import collections, http.client, json, os, sys, threading, time

port, files, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
def connect(): return http.client.HTTPConnection('127.0.0.1', port, timeout=60)
c = connect()
c.request('POST', '/api/v1/clients', json.dumps({'nickname': 'compaction-bench'}), {'Content-Type': 'application/json'})
auth = {'Authorization': 'Bearer ' + json.loads(c.getresponse().read())['token']}

def call(conn, method, path, body=None, want=(200, 201, 204)):
    conn.request(method, path, body, auth)
    r = conn.getresponse(); r.read()
    if r.status not in want: raise SystemExit(f'{method} {path}: {r.status}')

def in_parallel(work, items, threads=4):
    def run(part):
        conn = connect()
        for item in part: work(conn, item)
    ts = [threading.Thread(target=run, args=(items[k::threads],)) for k in range(threads)]
    for t in ts: t.start()
    for t in ts: t.join()

names = [f'fill-{i}' for i in range(files)]
in_parallel(lambda conn, n: call(conn, 'PUT', f'/api/v1/files/{n}?replicas=3', os.urandom(200 * 1024)), names)
in_parallel(lambda conn, n: call(conn, 'DELETE', f'/api/v1/files/{n}'), [n for i, n in enumerate(names) if i % 3])
print(f'{files} files of 200 KiB deposited, two thirds deleted; probing for {seconds:.0f} s from '
      + time.strftime('%H:%M:%S', time.gmtime()), flush=True)

per_second = collections.defaultdict(list)
start = time.time(); i = 0
while time.time() - start < seconds:
    t = time.time()
    call(c, 'PUT', f'/api/v1/files/probe-{i}?replicas=3', os.urandom(4096))
    per_second[int(t - start)].append((time.time() - t) * 1000); i += 1
counts = [len(per_second[s]) for s in sorted(per_second)]
print('deposits per second:', ' '.join(map(str, counts)))
print('slowest per second (ms):', ' '.join(f'{max(per_second[s]):.0f}' for s in sorted(per_second)))
print(f'worst second: {min(counts)} deposits; median second: {sorted(counts)[len(counts) // 2]}')
