"""The workflow of a need as data: which step may follow which state, and who may help.

    submitted → accepted (or rejected) → dispatched → claimed → in progress → resolved
              → rated (≥ 3 closes; ≤ 2 reopens) → closed
    also: transferred, escalated, merged into a duplicate, paused / resumed, reopened.

`check_transition(need, step)` raises `NeedError` (409, with the reason) when the need's
state does not allow the step."""

from django.utils.translation import gettext as _

from hongyan.core.errors import DomainError

from .models import OPEN_STATUSES, Status

S = Status

# step -> states it may start from
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "accept": (S.SUBMITTED,),
    "reject": (S.SUBMITTED,),
    "dispatch": (S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.CLAIMED),
    "claim": (S.ACCEPTED, S.DISPATCHED),
    "start": (S.DISPATCHED, S.CLAIMED),
    "pause": (S.ACCEPTED, S.DISPATCHED, S.CLAIMED, S.IN_PROGRESS),
    "resume": (S.PAUSED,),
    "resolve": (S.CLAIMED, S.IN_PROGRESS),
    "rate": (S.RESOLVED,),
    "close": (S.RESOLVED,),
    "reopen": (S.RESOLVED, S.CLOSED),
    "transfer": tuple(s for s in OPEN_STATUSES if s != S.PAUSED),
    "escalate": tuple(OPEN_STATUSES),
    "merge": tuple(OPEN_STATUSES),
    "join": tuple(OPEN_STATUSES),
}


def step_names() -> dict[str, str]:
    return {
        "accept": _("受理"),
        "reject": _("不予受理"),
        "dispatch": _("派单"),
        "claim": _("认领"),
        "start": _("开始办理"),
        "pause": _("暂停"),
        "resume": _("恢复办理"),
        "resolve": _("办结"),
        "rate": _("评价"),
        "close": _("关闭"),
        "reopen": _("重新办理"),
        "transfer": _("转办"),
        "escalate": _("督办"),
        "merge": _("合并"),
        "join": _("附议"),
    }


class NeedError(DomainError):
    pass


def conflict(code: str, message: str) -> NeedError:
    return NeedError(code, message, status=409)


def check_transition(need, step: str) -> None:
    if need.status in ALLOWED_FROM[step]:
        return
    raise conflict(
        "illegal_transition",
        _("需求 %(ref)s 当前状态为“%(status)s”，不能%(step)s。")
        % {
            "ref": need.reference,
            "status": need.get_status_display(),
            "step": step_names()[step],
        },
    )


def allowed_steps(need) -> list[str]:
    """The steps the need's state allows (the pages show these buttons, roles permitting)."""
    return [step for step, states in ALLOWED_FROM.items() if need.status in states]
