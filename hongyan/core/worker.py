"""`hongyan worker`: runs the periodic sweeps each app registers.

A sweep must be idempotent (running it twice, or in two workers at once, does the work
once), because a deployment may restart or double its worker at any time."""

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.sessions.models import Session
from django.utils import timezone


@dataclass
class Sweep:
    name: str
    every_seconds: int
    run: Callable[[], int]  # returns how many things it did


SWEEPS: list[Sweep] = []


def register_sweep(name: str, every_seconds: int):
    def decorator(func):
        SWEEPS.append(Sweep(name, every_seconds, func))
        return func

    return decorator


@register_sweep("expired_sessions", every_seconds=3600)
def delete_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@register_sweep("expired_tokens", every_seconds=3600)
def delete_expired_tokens() -> int:
    from .models import ApiToken

    deleted, _ = ApiToken.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


@register_sweep("idle_accounts", every_seconds=3600)
def disable_idle_accounts() -> int:
    """Accounts unused for ACCOUNT_IDLE_DAYS (90) are disabled (core.services)."""
    from .services import disable_idle_accounts as sweep

    return sweep()


def run_due(last_run: dict[str, float], now: float) -> dict[str, int]:
    done = {}
    for sweep in SWEEPS:
        if now - last_run.get(sweep.name, float("-inf")) >= sweep.every_seconds:
            done[sweep.name] = sweep.run()
            last_run[sweep.name] = now
    return done


def run_worker(*, once: bool = False, interval: int = 60) -> int:
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    last_run: dict[str, float] = {}
    print(f"worker: {len(SWEEPS)} sweeps registered", flush=True)
    while True:
        for name, count in run_due(last_run, time.monotonic()).items():
            print(f"worker: {name} → {count}", flush=True)
        if once or stopping:
            return 0
        for _ in range(interval):
            if stopping:
                return 0
            time.sleep(1)
