"""Benchmark: public intake throughput under gunicorn — residents filing needs through the
public page (`POST /report/`) and the JSON API (`POST /api/v1/needs`), beside a bare
Django view that does one INSERT, all served by the same gunicorn (same workers, same
database), driven by keep-alive clients in threads for a fixed time each.

    python bench/needs_intake.py [--seconds 10] [--clients 8] [--workers 2]
    DATABASE_URL=postgres://postgres@127.0.0.1/hongyan_bench_intake python bench/needs_intake.py

Prints requests per second of each and the ratio to the bare INSERT. Rate limits are
turned off for the run (they would answer 429 after 30 an hour). PostgreSQL: use a
throwaway database (a scratch table is added to it)."""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
COMMUNITY = "150902001001"  # 恩和路社区, 集宁区
SCRATCH = "bench_intake_scratch"


def environment() -> dict:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["HONGYAN_DATA_DIR"] = tempfile.mkdtemp(prefix="hongyan-bench-")
    env["DJANGO_SETTINGS_MODULE"] = "hongyan.settings"
    for name in ("NEED_INTAKE_IP", "NEED_INTAKE_MOBILE"):
        env[f"HONGYAN_RATE_{name}"] = "off"
    return env


def prepare(env) -> str:
    """Migrate, load the divisions, make one compound; returns its code."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from hongyan.orgs.loader import load_divisions
    from hongyan.orgs.models import Unit, UnitKind
    from hongyan.orgs.services import unit_create_child

    call_command("migrate", interactive=False, verbosity=0)
    load_divisions()
    community = Unit.objects.get(code=COMMUNITY)
    compound = Unit.objects.filter(parent=community, kind=UnitKind.COMPOUND).first()
    if compound is None:
        compound = unit_create_child(
            actor=None, parent=community, kind=UnitKind.COMPOUND, name="基准小区"
        )
    with connection.cursor() as cursor:
        auto = "BIGSERIAL" if connection.vendor == "postgresql" else "INTEGER"
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {SCRATCH} (id {auto} PRIMARY KEY, text TEXT, at TEXT)"
        )
    connection.close()
    return compound.code


WSGI = '''
"""The application, plus /bench/insert/: a bare view doing one INSERT (the baseline)."""
import time

from django.db import connection
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from hongyan.wsgi import application as hongyan_app


@csrf_exempt
def bare_insert(request):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO %(table)s (text, at) VALUES (%%s, %%s)", [request.POST.get("text", ""), str(time.time())]
        )
    return HttpResponse("ok", status=201)


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/bench/insert/":
        from django.core.handlers.wsgi import WSGIRequest

        from django.core.handlers.base import BaseHandler

        request = WSGIRequest(environ)
        response = bare_insert(request)
        start_response(f"{response.status_code} Created", list(response.items()))
        return [response.content]
    return hongyan_app(environ, start_response)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env, workers: int):
    folder = Path(tempfile.mkdtemp(prefix="hongyan-bench-wsgi-"))
    (folder / "bench_intake_wsgi.py").write_text(WSGI % {"table": SCRATCH})
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench_intake_wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--pythonpath",
            f"{folder},{ROOT}",
            "--log-level",
            "warning",
        ],
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            Client(port).request("GET", "/report/")
            break
        except OSError:
            time.sleep(0.2)
    return proc, port


class Client:
    """One client with its own cookies (the page's CSRF pair). Each request is one write
    on a fresh connection (gunicorn's sync workers close it after every answer), so no
    Nagle/delayed-ACK stall sits between the headers and the body."""

    def __init__(self, port):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None):
        body = body.encode() if isinstance(body, str) else (body or b"")
        headers = {
            "Host": "127.0.0.1",
            "Connection": "close",
            "Content-Length": str(len(body)),
            **(headers or {}),
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(head.encode() + b"\r\n" + body)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        raw = b"".join(chunks)
        header_block, _, data = raw.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "set-cookie":
                key, _, rest = value.strip().partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return status, data


def page_post(client, compound, n):
    if "csrf" not in client.__dict__:
        status, html = client.request("GET", "/report/")
        client.csrf = (
            re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1).decode()
        )
    body = urlencode(
        {
            "csrfmiddlewaretoken": client.csrf,
            "resident_name": "李大妈",
            "resident_mobile": f"138{n % 10**8:08d}",
            "county": compound[:6],
            "township": compound[:9],
            "community": compound[:12],
            "compound": compound,
            "category": "public_facilities",
            "text": f"楼道灯坏了（第 {n} 件）",
        }
    )
    return (
        client.request(
            "POST",
            "/report/",
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": "http://127.0.0.1/report/",
            },
        )[0]
        == 302
    )


def api_post(client, compound, n):
    body = json.dumps(
        {
            "category": "public_facilities",
            "unit": compound,
            "text": f"楼道灯坏了（第 {n} 件）",
            "resident_name": "李大妈",
            "resident_mobile": f"139{n % 10**8:08d}",
        },
        ensure_ascii=False,
    ).encode()
    return (
        client.request("POST", "/api/v1/needs", body, {"Content-Type": "application/json"})[0]
        == 201
    )


def bare_post(client, compound, n):
    body = urlencode({"text": f"楼道灯坏了（第 {n} 件）"})
    status, _ = client.request(
        "POST", "/bench/insert/", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    return status == 201


def run(port, compound, action, seconds, clients) -> tuple[float, int]:
    done, failed = [0], [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(k):
        client = Client(port)
        n = k * 10**6
        while time.monotonic() < stop:
            n += 1
            ok = action(client, compound, n)
            with lock:
                done[0] += ok
                failed[0] += not ok

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0] / (time.monotonic() - started), failed[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    env = environment()
    compound = prepare(env)
    proc, port = serve(env, args.workers)
    database = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    print(
        f"gunicorn, {args.workers} workers, {args.clients} clients, {args.seconds:.0f} s each, {database}"
    )
    try:
        results = {}
        for name, action in (
            ("bare view, one INSERT", bare_post),
            ("public page POST /report/", page_post),
            ("API POST /api/v1/needs", api_post),
        ):
            rate, failed = run(port, compound, action, args.seconds, args.clients)
            results[name] = rate
            print(f"{name:<28} {rate:8.1f} req/s  ({failed} failed)")
        base = results["bare view, one INSERT"]
        for name, rate in results.items():
            print(f"{name:<28} ratio to bare INSERT: {rate / base:.2f}")
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
