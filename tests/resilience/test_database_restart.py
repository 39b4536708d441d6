"""Fault drill (issue 6, item 8b): PostgreSQL restarted under load.

The app (gunicorn, through `hongyan serve`) runs against a PostgreSQL server of our own;
clients keep registering members through the API while that server is stopped and
started again. During the outage every answer is a 503 with Retry-After (JSON under
/api/, a plain page elsewhere) — never a 500; afterwards the same app processes answer
again by themselves; and every write the app acknowledged (201) is in the database."""

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import date, timedelta

from hongyan.core import pii

from .drills import (
    ROOT,
    OwnPostgres,
    base_env,
    django_eval,
    free_port,
    on_postgresql,
    prepare,
    temp_root,
    wait_for,
)

SETUP = """
from hongyan.core.models import ApiToken, Grant, User
from hongyan.orgs import services as org_services
from hongyan.orgs.models import Unit
community = Unit.objects.get(code="150902001001")
user = User.objects.create_user(username="drill", password="Drill-Password-2026", display_name="演练")
Grant.objects.create(user=user, role="community_worker", unit=community)
compound = org_services.unit_create_child(actor=user, parent=community, kind="compound", name="演练小区")
out = {"token": ApiToken.issue(user)[1], "compound": compound.code}
"""


def id_number(seq: int) -> str:
    born = date(1950, 1, 1) + timedelta(days=seq // 7)
    first17 = f"150902{born:%Y%m%d}{seq % 1000:03d}"
    return first17 + pii.id_check_char(first17)


def call(url, *, token=None, body=None, cookie=None, timeout=15):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if cookie:
        headers["Cookie"] = cookie
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        return None, {}, str(exc).encode()


class Load:
    """Writers registering members as fast as the app lets them, each result kept."""

    def __init__(self, base, token, compound, writers=3):
        self.base, self.token, self.compound = base, token, compound
        self.results = []  # (monotonic time, status, member id or None, body)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.seq = iter(range(10**6))
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(writers)]

    def run(self):
        while not self.stop.is_set():
            with self.lock:
                seq = next(self.seq)
            status, _headers, body = call(
                f"{self.base}/api/v1/members",
                token=self.token,
                body={"unit": self.compound, "name": f"演练{seq}", "id_number": id_number(seq)},
            )
            member_id = json.loads(body)["id"] if status == 201 else None
            with self.lock:
                self.results.append((time.monotonic(), status, member_id, body))
            if status != 201:
                time.sleep(0.05)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def count(self, status, since=0.0):
        with self.lock:
            return sum(1 for at, s, _id, _b in self.results if s == status and at >= since)


def test_postgresql_restart_under_load():
    if not on_postgresql():
        import pytest

        pytest.skip("PostgreSQL drill: runs in the PostgreSQL pass (DATABASE_URL=postgres://…)")
    with temp_root() as root:
        pg = OwnPostgres(root)
        pg.init()
        try:
            data_dir = root / "data"
            data_dir.mkdir()
            env = base_env(data_dir, pg.url)
            prepare(env)
            setup = django_eval(SETUP, env)
            acknowledged = drill(root, env, pg, setup)
            stored = django_eval(
                "from hongyan.members.models import Member\n"
                "out = list(Member.objects.values_list('pk', flat=True))",
                env,
            )
        finally:
            pg.stop("immediate")
    lost = set(acknowledged) - set(stored)
    assert not lost, f"{len(lost)} acknowledged writes lost: {sorted(lost)[:10]}"
    assert len(acknowledged) == len(set(acknowledged)) >= 40


def drill(root, env, pg, setup) -> list[int]:
    """Run the app, load it, restart PostgreSQL under it; return the acknowledged ids."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    token = setup["token"]
    with open(root / "server.out", "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "hongyan.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            up = wait_for(lambda: call(f"{base}/api/v1/me", token=token)[0] == 200, 30)
            assert up, (root / "server.out").read_text()
            with Load(base, token, setup["compound"]) as load:
                assert wait_for(lambda: load.count(201) >= 20, 30), load.results[:3]
                pg.stop("fast")
                down_at = time.monotonic()
                assert wait_for(lambda: load.count(503, since=down_at) >= 3, 20), load.results[-5:]
                # during the outage: the API answers JSON 503, a page a plain 503 page
                status, headers, body = call(f"{base}/api/v1/me", token=token)
                assert status == 503, body
                assert headers.get("Retry-After", "").isdigit()
                answer = json.loads(body)
                assert answer["code"] == "unavailable" and "数据库" in answer["message"]
                status, headers, body = call(f"{base}/members/", cookie="sessionid=" + "d" * 32)
                assert status == 503 and headers.get("Retry-After"), body
                page = body.decode()
                assert "服务暂时不可用" in page and "Service unavailable" in page
                pg.start()
                up_at = time.monotonic()
                # the same app processes recover by themselves
                assert wait_for(lambda: load.count(201, since=up_at) >= 20, 60), load.results[-5:]
        finally:
            server.terminate()
            server.wait(timeout=30)
    unexpected = [r for r in load.results if r[1] not in (201, 503)]
    assert not unexpected, (unexpected[:3], (root / "server.out").read_text()[-6000:])
    return [m for _at, s, m, _b in load.results if s == 201]
