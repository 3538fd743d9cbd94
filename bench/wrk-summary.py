"""Reads wrk --latency output; prints "req/s p50_ms p99_ms failures"
(failures: non-2xx answers plus socket errors)."""
import re
import sys

text = sys.stdin.read()


def ms(v):
    n, u = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[u]


rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"^\s*50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s*99%\s+(\S+)", text, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
failures = int(bad.group(1)) if bad else 0
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
if sock:
    failures += sum(int(x) for x in sock.groups())
print(f"{rps:.1f} {p50:.3f} {p99:.3f} {failures}")
