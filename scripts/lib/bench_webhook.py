"""Webhook benchmark: signed Instagram batches against a running `handler serve`.
Prints events/s and p50/p99 latency for 1-event and 100-event batches (targets: p99 under
50 ms for a 100-event batch, over 2,000 events/s)."""
import hashlib
import hmac
import http.client
import json
import statistics
import sys
import threading
import time
import uuid

port, secret, account = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
run = uuid.uuid4().hex[:8]


def body(n, tag):
    ts = int(time.time() * 1000)
    events = [
        {"sender": {"id": f"cust-{tag}-{i % 20}"}, "recipient": {"id": account}, "timestamp": ts + i,
         "message": {"mid": f"mid-{run}-{tag}-{i}", "text": "مرحبا، قديش سعر القميص الأزرق؟"}}
        for i in range(n)
    ]
    return json.dumps({"object": "instagram", "entry": [{"id": account, "time": ts, "messaging": events}]}).encode()


def post(conn, payload):
    sig = "sha256=" + hmac.new(secret, payload, hashlib.sha256).hexdigest()
    t0 = time.perf_counter()
    conn.request("POST", "/api/instagram/webhook", payload, {"X-Hub-Signature-256": sig, "Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"webhook answered {r.status}")
    return (time.perf_counter() - t0) * 1000


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def sequential(size, count):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    payloads = [body(size, f"s{size}-{k}") for k in range(count)]
    for p in payloads[:5]:
        post(conn, body(size, f"warm-{size}-{uuid.uuid4().hex[:6]}"))
    start = time.perf_counter()
    lat = [post(conn, p) for p in payloads]
    elapsed = time.perf_counter() - start
    print(f"{size:>3}-event batches, {count} sequential: p50 {statistics.median(lat):.1f} ms  p99 {pct(lat, 0.99):.1f} ms  "
          f"{size * count / elapsed:,.0f} events/s")


def concurrent(size, per_thread, threads):
    lat, lock = [], threading.Lock()

    def worker(w):
        conn = http.client.HTTPConnection("127.0.0.1", port)
        mine = [post(conn, body(size, f"c{w}-{k}")) for k in range(per_thread)]
        with lock:
            lat.extend(mine)

    start = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - start
    print(f"{size:>3}-event batches, {threads} senders x {per_thread}: p50 {statistics.median(lat):.1f} ms  "
          f"p99 {pct(lat, 0.99):.1f} ms  {size * per_thread * threads / elapsed:,.0f} events/s")


print("webhook (signed batches -> stored, deduplicated, queued):")
sequential(1, 300)
sequential(100, 100)
concurrent(100, 40, 4)
print("targets: p99 < 50 ms for a 100-event batch; > 2,000 events/s")
