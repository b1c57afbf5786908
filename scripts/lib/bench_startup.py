"""Start-up benchmark for the custom handler: exec -> first HTTP answer on GET /, then the
resident memory of the idle process. Prints figures; the targets are 50 ms and 30 MB."""
import os
import socket
import statistics
import subprocess
import sys
import time

binary, runs = sys.argv[1], int(sys.argv[2])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return s.recv(12).startswith(b"HTTP/1.1")
    except OSError:
        return False


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


startups, rss = [], []
for _ in range(runs):
    port = free_port()
    env = dict(os.environ, FUNCTIONS_CUSTOMHANDLER_PORT=str(port), IGSHOP_SETTINGS_FILE="/nonexistent", RUST_LOG="warn")
    t0 = time.perf_counter()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = t0 + 10
    while not answers(port):
        if time.perf_counter() > deadline or p.poll() is not None:
            p.kill()
            sys.exit(f"handler did not answer on port {port}")
        time.sleep(0.0005)
    startups.append((time.perf_counter() - t0) * 1000)
    # Idle after a health-free probe: what the process holds while waiting for work.
    time.sleep(0.5)
    rss.append(rss_mb(p.pid))
    p.terminate()
    p.wait()

startups.sort()
p99 = startups[min(len(startups) - 1, int(round(0.99 * (len(startups) - 1))))]
print(f"handler start-up (exec -> first answer on GET /), {runs} runs:")
print(f"  p50 {statistics.median(startups):.1f} ms   p99 {p99:.1f} ms   max {startups[-1]:.1f} ms   (target < 50 ms)")
print(f"idle RSS: median {statistics.median(rss):.1f} MB   max {max(rss):.1f} MB   (target < 30 MB)")
