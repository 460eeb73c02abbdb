#!/usr/bin/env python3
"""Slow-body attack on dynreg (loopback only, bounded in time and count).

Usage: scripts/attack-slow-body.py            (from anywhere; about 30 s)
       CONNECTIONS=500 scripts/attack-slow-body.py

Builds the release binary (`cargo build --release`; set DYNREG_BIN to use a binary already
built), starts it on a free 127.0.0.1 port with a fresh temporary data directory and its
default limits (request timeout 10 s), then opens CONNECTIONS (3000) connections that each
send the head of a registration with `Content-Length: 60000` and then one byte every 2 s.
While they are open it probes `GET /health` every PROBE_INTERVAL (0.2) s on a new connection
and samples the server's RSS. Prints each target with MET/MISSED:

  - every /health probe answered within 1 s while the slow connections are open;
  - every slow body cut (answered or closed by the server) within 35 s of its head;
  - RSS back within 150 MB of the baseline (taken before the attack) SETTLE (5) s after the
    last slow connection was cut.

Knobs: CONNECTIONS (3000), PROBE_INTERVAL (0.2), SETTLE (5), HOLD_LIMIT (60 s: a slow
connection still open then counts as not cut), SERVER_LOG (warn), EXTRA_FLAGS (added to the
server's command line). The script stops its server on exit.
"""

import asyncio
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "3000"))
PROBE_INTERVAL = float(os.environ.get("PROBE_INTERVAL", "0.2"))
SETTLE = float(os.environ.get("SETTLE", "5"))
HOLD_LIMIT = float(os.environ.get("HOLD_LIMIT", "60"))
SERVER_LOG = os.environ.get("SERVER_LOG", "warn")
EXTRA_FLAGS = shlex.split(os.environ.get("EXTRA_FLAGS", ""))
DECLARED_LENGTH = 60000
TRICKLE_SECONDS = 2.0
HEALTH_TARGET = 1.0
CUT_TARGET = 35.0
RSS_TARGET_MB = 150.0


def log(message):
    print(f"# {message}", file=sys.stderr, flush=True)


def binary():
    if os.environ.get("DYNREG_BIN"):
        return os.environ["DYNREG_BIN"]
    log("building release: cargo build --release --bin dynreg")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "dynreg"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", "dynreg")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def verdict(ok):
    return "MET" if ok else "MISSED"


async def health(port, timeout=5.0):
    """Seconds until /health answered 200, or None if it did not within `timeout`."""
    started = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout - (time.monotonic() - started))
        writer.close()
        if b" 200 " not in line:
            return None
        return time.monotonic() - started
    except (OSError, asyncio.TimeoutError):
        return None


async def slow_body(port, results, opened):
    """One slow-body connection: records (seconds from head to cut, status line) or None."""
    head = (
        "POST /am/oauth2/realms/root/realms/alpha/register HTTP/1.1\r\n"
        "Host: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {DECLARED_LENGTH}\r\n\r\n{{"
    ).encode()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
        writer.write(head)
        await writer.drain()
    except (OSError, asyncio.TimeoutError):
        results.append(None)
        return
    opened.append(time.monotonic())
    sent_head = time.monotonic()
    status = b""
    while time.monotonic() - sent_head < HOLD_LIMIT:
        try:
            line = await asyncio.wait_for(reader.readline(), TRICKLE_SECONDS)
            status = line.strip()
            break  # an answer (408) or EOF: the server cut us
        except asyncio.TimeoutError:
            pass
        except OSError:
            break
        try:
            writer.write(b" ")
            await writer.drain()
        except OSError:
            break
    elapsed = time.monotonic() - sent_head
    writer.close()
    results.append((elapsed, status.decode(errors="replace")) if elapsed < HOLD_LIMIT else None)


async def attack(port, pid):
    await asyncio.sleep(1)
    baseline = rss_mb(pid)
    log(f"baseline RSS {baseline:.1f} MB; opening {CONNECTIONS} slow-body connections")
    results, opened, probes, rss = [], [], [], [baseline]
    tasks = [asyncio.ensure_future(slow_body(port, results, opened)) for _ in range(CONNECTIONS)]
    started = time.monotonic()
    while len(results) < CONNECTIONS and time.monotonic() - started < HOLD_LIMIT + 40:
        # Probe only while the attack is on: every slow connection has sent its head or failed.
        if len(opened) + len(results) >= CONNECTIONS * 0.95 or time.monotonic() - started > 3:
            probes.append(await health(port))
        rss.append(rss_mb(pid))
        await asyncio.sleep(PROBE_INTERVAL)
    for task in tasks:
        task.cancel()
    last_cut = time.monotonic()
    await asyncio.sleep(SETTLE)
    after = rss_mb(pid)
    return baseline, max(rss), after, results, opened, probes, last_cut - started


def main():
    dynreg = binary()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="dynreg-attack.") as tmp:
        server = subprocess.Popen(
            [dynreg, "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(tmp, "data"),
             "--realms-dir", os.path.join(ROOT, "realms"), *EXTRA_FLAGS],
            env={**os.environ, "RUST_LOG": SERVER_LOG},
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "server.log"), "w"),
        )
        try:
            deadline = time.monotonic() + 60
            while asyncio.run(health(port, 2)) is None:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"dynreg did not start: {open(os.path.join(tmp, 'server.log')).read()}")
                time.sleep(0.05)
            log(f"dynreg pid {server.pid} on 127.0.0.1:{port}")
            baseline, peak, after, results, opened, probes, duration = asyncio.run(attack(port, server.pid))
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    cut = [r for r in results if r is not None]
    statuses = {}
    for _, status in cut:
        key = status.split(" ")[1] if status.count(" ") >= 1 else "closed"
        statuses[key] = statuses.get(key, 0) + 1
    answered = [p for p in probes if p is not None]
    worst_probe = max(answered) if answered else float("inf")
    worst_cut = max((elapsed for elapsed, _ in cut), default=float("inf"))
    print(f"slow_connections_opened: {len(opened)} of {CONNECTIONS}")
    print(f"slow_bodies_answered: {', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))}")
    print(f"attack_duration: {duration:.1f} s")
    print(f"health_probes: {len(probes)} sent, {len(answered)} answered, worst {worst_probe * 1e3:.1f} ms "
          f"(target every probe < {HEALTH_TARGET * 1e3:.0f} ms: "
          f"{verdict(len(probes) > 0 and len(answered) == len(probes) and worst_probe < HEALTH_TARGET)})")
    print(f"slow_body_cut: {len(cut)} of {CONNECTIONS} cut, worst {worst_cut:.1f} s "
          f"(target all < {CUT_TARGET:.0f} s: {verdict(len(cut) == CONNECTIONS and worst_cut < CUT_TARGET)})")
    print(f"rss: baseline {baseline:.1f} MB, peak {peak:.1f} MB, {SETTLE:.0f} s after {after:.1f} MB, "
          f"after - baseline {after - baseline:.1f} MB "
          f"(target < {RSS_TARGET_MB:.0f} MB: {verdict(after - baseline < RSS_TARGET_MB)})")


if __name__ == "__main__":
    main()
