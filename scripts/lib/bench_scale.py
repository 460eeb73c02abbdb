"""Helpers of scripts/bench-scale.sh (standard library only; talks to 127.0.0.1 only).

  create-realms BASE_URL ADMIN_TOKEN_FILE FIRST COUNT CONCURRENCY
      PUT /admin/realms/r-FIRST .. r-(FIRST+COUNT-1) with open registration, CONCURRENCY
      keep-alive connections, each answer 201 (else it stops with the answer); prints
      {"created": n, "seconds": s} as JSON.
  register-sample REGISTRATION_ENDPOINT COUNT OUT_FILE
      registers COUNT clients (the load tool's default body) and writes one line per client:
      "<path?query of registration_client_uri> <registration access token>".
  first-request GET|POST URL
      one request on a fresh connection (POST: a registration with the default body); prints
      the latency in ms, from connect to the last byte of the answer.
  first-requests GET|POST URL...
      first-request for each URL in turn; prints one latency (ms) per line.
  fdatasync-ms DIR COUNT
      COUNT 4 KiB writes each followed by fdatasync in a file under DIR; prints the median ms
      (the disk's bound on one durable write after another).
  metric BASE_URL NAME
      the value of one line of BASE_URL/metrics.
"""

import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit

BODY = json.dumps(
    {
        "redirect_uris": ["https://client.example.com/callback"],
        "client_name": "load",
        "grant_types": ["authorization_code", "client_credentials"],
    },
    separators=(",", ":"),
).encode()


def loopback(base_url):
    parts = urlsplit(base_url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"refusing to contact {parts.hostname}: loopback only")
    return parts


def connection(base_url):
    parts = loopback(base_url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)


class BareConnection:
    """A keep-alive HTTP/1.1 connection that parses no more of an answer than its status
    and Content-Length (every answer of dynreg's admin API has one). http.client took ~250 µs
    of client CPU per request here (its header parsing), a quarter of a realm creation's
    round trip, and a one-connection creation probe waits for its client as much as for the
    server."""

    def __init__(self, base_url):
        parts = loopback(base_url)
        self.host = f"{parts.hostname}:{parts.port}"
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = b""

    def request(self, method, target, headers, body):
        head = f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head += f"Content-Length: {len(body)}\r\n\r\n"
        self.sock.sendall(head.encode() + body)
        while (end := self.pending.find(b"\r\n\r\n")) < 0:
            self.receive()
        lines = self.pending[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        lengths = [
            int(value)
            for name, _, value in (line.partition(":") for line in lines[1:])
            if name.strip().lower() == "content-length"
        ]
        if not lengths:
            sys.exit(f"{method} {target}: an answer without Content-Length")
        start = end + 4
        while len(self.pending) < start + lengths[0]:
            self.receive()
        answer = self.pending[start : start + lengths[0]]
        self.pending = self.pending[start + lengths[0] :]
        return status, answer

    def receive(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            sys.exit("the server closed the connection")
        self.pending += chunk


def create_realms(base_url, token_file, first, count, concurrency):
    token = open(token_file).read().strip()
    document = json.dumps({"oauth2_provider": {"allow_open_dynamic_registration": True}}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    lock = threading.Lock()
    state = {"next": first, "done": 0, "error": None}
    end = first + count
    started = time.monotonic()

    def worker():
        conn = BareConnection(base_url)
        while True:
            with lock:
                if state["error"] or state["next"] >= end:
                    return
                index = state["next"]
                state["next"] += 1
            status, answer = conn.request("PUT", f"/admin/realms/r-{index}", headers, document)
            with lock:
                if status != 201:
                    state["error"] = f"r-{index}: {status} {answer[:200]!r}"
                    return
                state["done"] += 1
                state["last_done"] = time.monotonic()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    last = started
    while any(thread.is_alive() for thread in threads):
        time.sleep(0.2)
        if time.monotonic() - last >= 10:
            last = time.monotonic()
            done = state["done"]
            print(
                f"# realms: {done}/{count} in {last - started:.0f}s"
                f" ({done / (last - started):.1f}/s)",
                file=sys.stderr,
            )
    for thread in threads:
        thread.join()
    if state["error"]:
        sys.exit(f"creating realms failed: {state['error']}")
    # Timed to the last answer, not to the 0.2 s progress poll above.
    seconds = state.get("last_done", time.monotonic()) - started
    print(json.dumps({"created": state["done"], "seconds": seconds}))


def register_sample(endpoint, count, out_file):
    parts = urlsplit(endpoint)
    conn = connection(endpoint)
    lines = []
    for _ in range(count):
        conn.request("POST", parts.path, body=BODY, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        answer = response.read()
        if response.status != 201:
            sys.exit(f"registration failed: {response.status} {answer[:300]!r}")
        data = json.loads(answer)
        uri = urlsplit(data["registration_client_uri"])
        lines.append(f"{uri.path}?{uri.query} {data['registration_access_token']}\n")
    with open(out_file, "w") as out:
        out.writelines(lines)


def fdatasync_ms(directory, count):
    path = os.path.join(directory, "fdatasync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    samples = []
    try:
        for _ in range(count):
            os.pwrite(fd, b"x" * 4096, 0)
            started = time.perf_counter()
            os.fdatasync(fd)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    print(f"{statistics.median(samples):.4f}")


def metric(base_url, name):
    conn = connection(base_url)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            print(line.split()[1])
            return
    sys.exit(f"no {name} in /metrics")


def first_request(method, url):
    parts = urlsplit(url)
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    body, headers = (BODY, {"Content-Type": "application/json"}) if method == "POST" else (None, {})
    started = time.perf_counter()
    conn = connection(url)
    conn.request(method, target, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status not in (200, 201):
        sys.exit(f"{method} {url}: {response.status}")
    print(f"{elapsed:.3f}")


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "create-realms":
        create_realms(args[0], args[1], int(args[2]), int(args[3]), int(args[4]))
    elif command == "register-sample":
        register_sample(args[0], int(args[1]), args[2])
    elif command == "first-request":
        first_request(args[0], args[1])
    elif command == "first-requests":
        for url in args[1:]:
            first_request(args[0], url)
    elif command == "fdatasync-ms":
        fdatasync_ms(args[0], int(args[1]))
    elif command == "metric":
        metric(args[0], args[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
