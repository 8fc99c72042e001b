"""Many people entering data at once through `kypho serve` (loopback only, bounded).

Starts ``kypho serve`` as its own process on a fresh store (SQLite file by
default; ``--pg URL`` for PostgreSQL), then N simulated users (threads, one
HTTP session each, stdlib ``urllib``) log in and:

1. create the records (``POST /record/new``, the schema's required fields), and
2. edit records drawn from a small shared pool, so that edits collide: each edit
   reads the form (its version and the current notes), appends a token of its own
   to the notes and saves; a 409 conflict page is answered by reading the record
   again and re-applying the change (what a person does on the conflict page).

It prints requests per second and p50/p95 latency per kind of request, and checks
that no update was lost (every saved token is in the final record, and the
record's version is 1 + the number of saved edits), that no request got a 5xx,
and that ``kypho db verify`` passes. Whole-process figures: the server is the
command a user runs; the clients run in this process.

Usage::

    .venv/bin/python benchmarks/bench_web.py                 # 20 users, 2,000 records, 500 edits
    .venv/bin/python benchmarks/bench_web.py --users 5 --records 200 --edits 50
"""

from __future__ import annotations

import argparse
import html
import http.cookiejar
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path

PASSWORD = "benchmark password"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="(\d+)"')
_NOTES = re.compile(r'<textarea id="f-notes" name="notes"[^>]*>([^<]*)</textarea>')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Client:
    """One simulated user: a cookie jar, the CSRF token, timings."""

    def __init__(self, base: str, name: str, times: dict[str, list[float]], errors: list[str]):
        self.base = base
        self.name = name
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )
        self.csrf = ""
        self.times = times
        self.errors = errors

    def request(self, kind: str, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = None if data is None else urllib.parse.urlencode(data).encode()
        started = time.perf_counter()
        try:
            with self.opener.open(self.base + path, data=body, timeout=120) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode()
        self.times[kind].append(time.perf_counter() - started)
        if status >= 500:
            self.errors.append(f"{status} {kind} {path}")
        return status, text

    def login(self) -> None:
        _, page = self.request("login page", "/login")
        self.csrf = _CSRF.search(page).group(1)  # type: ignore[union-attr]
        status, _ = self.request(
            "login", "/login", {"name": self.name, "password": PASSWORD, "csrf": self.csrf}
        )
        assert status == 303, status
        _, page = self.request("dashboard", "/")
        self.csrf = _CSRF.search(page).group(1)  # type: ignore[union-attr]


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process and its live descendants (Linux)."""
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, seconds)
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), sum(int(x) for x in fields[11:15]) / ticks)
    total = 0.0
    for p, (_, seconds) in stats.items():
        q = p
        while q > 1 and q != pid:
            q = stats.get(q, (0, 0.0))[0]
        if q == pid:
            total += seconds
    return total


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(
    users: int, records: int, edits: int, pool: int, url: str, workers: int = 1
) -> dict[str, object]:
    from kypho.store import Store
    from kypho.store.auth import set_password

    names = [f"user{i:02d}" for i in range(users)]
    with Store.init(url, admin="admin") as store:
        set_password(store, "admin", PASSWORD)
        for name in names:
            store.add_user(name, "data_entry")
            set_password(store, name, PASSWORD)
    port = _free_port()
    kypho = str(Path(sys.executable).with_name("kypho"))
    env = {**os.environ, "KYPHO_SECRET": "benchmark"}
    server = subprocess.Popen(
        [kypho, "serve", "--url", url, "--user", "admin", "--port", str(port)]
        + (["--workers", str(workers)] if workers > 1 else []),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError("kypho serve did not start") from None
                time.sleep(0.1)
        times: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        saved: dict[str, list[str]] = defaultdict(list)  # record -> tokens saved
        conflicts = [0]
        lock = threading.Lock()
        clients = [Client(base, n, times, errors) for n in names]
        for c in clients:
            c.login()
        server_cpu_at_start = _cpu_s(server.pid)
        at_start = os.times()
        clients_cpu_at_start = at_start.user + at_start.system

        def create(c: Client, ids: list[str]) -> None:
            for rid in ids:
                status, page = c.request(
                    "create",
                    "/record/new",
                    {
                        "csrf": c.csrf,
                        "patient_id": rid,
                        "group": "control" if int(rid[2:]) % 2 else "experimental",
                        "sex": "female",
                        "age": "72",
                        "level": "L1",
                    },
                )
                if status != 303:
                    start = page.find('role="alert">')
                    raise AssertionError(f"create {rid}: {status} {page[start : start + 400]}")

        def edit(c: Client, targets: list[str], tag: str) -> None:
            for k, rid in enumerate(targets):
                token = f"{tag}-{k}"
                while True:
                    q = urllib.parse.urlencode({"id": rid, "inst": "patient"})
                    _, page = c.request("form", f"/record/form?{q}")
                    version = _VERSION.search(page).group(1)  # type: ignore[union-attr]
                    match = _NOTES.search(page)
                    notes = match.group(1) if match else ""
                    notes = html.unescape(notes)
                    status, _ = c.request(
                        "save",
                        "/record/save",
                        {
                            "csrf": c.csrf,
                            "id": rid,
                            "inst": "patient",
                            "version": version,
                            "orig__notes": notes,
                            "notes": f"{notes} {token}".strip(),
                        },
                    )
                    if status == 303:
                        with lock:
                            saved[rid].append(token)
                        break
                    if status == 409:
                        with lock:
                            conflicts[0] += 1
                        continue
                    raise AssertionError(f"save answered {status}")

        all_ids = [f"B-{i:05d}" for i in range(records)]
        started = time.perf_counter()
        threads = [
            threading.Thread(target=create, args=(c, all_ids[i::users]))
            for i, c in enumerate(clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        created_s = time.perf_counter() - started
        shared = all_ids[:pool]
        per_user = [
            [shared[(i * 7 + k * 3) % pool] for k in range(edits // users)] for i in range(users)
        ]
        started_edits = time.perf_counter()
        threads = [
            threading.Thread(target=edit, args=(c, per_user[i], c.name))
            for i, c in enumerate(clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        edited_s = time.perf_counter() - started_edits
        total_s = time.perf_counter() - started
        server_cpu_s = _cpu_s(server.pid) - server_cpu_at_start
        clients_cpu = os.times()
        clients_cpu_s = clients_cpu.user + clients_cpu.system - clients_cpu_at_start
    finally:
        server.terminate()
        server.wait(timeout=30)

    with Store(url, user="admin") as store:
        lost = 0
        for rid, tokens in saved.items():
            rec = store.get(rid)
            words = set(str(rec.values["notes"] or "").split())
            lost += sum(1 for t in tokens if t not in words)
            if rec.version != 1 + len(tokens):
                lost += 1
        n_records = len(store.read())
        verified = store.verify()
    n_requests = sum(len(v) for v in times.values())
    work = {k: v for k, v in times.items() if k in ("create", "form", "save")}
    return {
        "users": users,
        "records": n_records,
        "edits saved": sum(len(v) for v in saved.values()),
        "conflicts answered": conflicts[0],
        "requests": n_requests,
        "requests/s (create+edit phases)": (
            sum(len(v) for v in work.values()) / (created_s + edited_s)
        ),
        "create phase s": created_s,
        "edit phase s": edited_s,
        "total s": total_s,
        "server CPU s (user+sys)": server_cpu_s,
        "clients CPU s (user+sys)": clients_cpu_s,
        "latency": {
            k: (statistics.median(v), statistics.quantiles(v, n=20)[18] if len(v) > 1 else v[0])
            for k, v in times.items()
        },
        "lost updates": lost,
        "server errors": len(errors),
        "verify": verified.summary(),
        "verify ok": verified.ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=500)
    parser.add_argument("--pool", type=int, default=50, help="records the edits share")
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL (an empty database)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL only)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kypho-bench-web-"))
    try:
        url = args.pg or f"sqlite:///{folder}/bench.db"
        result = run(args.users, args.records, args.edits, args.pool, url, args.workers)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    engine = "PostgreSQL" if args.pg else "SQLite"
    print(
        f"kypho serve on {engine} ({args.workers} worker process(es)), loopback, "
        f"{args.users} concurrent users (one run)"
    )
    for key, value in result.items():
        if key == "latency":
            continue
        print(f"  {key}: {value:.1f}" if isinstance(value, float) else f"  {key}: {value}")
    print("  latency (p50 / p95, ms):")
    for kind, (p50, p95) in result["latency"].items():  # type: ignore[union-attr]
        print(f"    {kind:<12} {1000 * p50:8.1f} / {1000 * p95:8.1f}")
    ok = result["lost updates"] == 0 and result["server errors"] == 0 and result["verify ok"]
    print("  checks:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
