"""Every write on residents' needs. Keyword-only, actor first, one transaction each,
audited, a timeline entry per step; a rule that says no raises `NeedError` (a
DomainError; an illegal transition answers 409 with the reason).

Signatures (the pages, Open311, visits and meetings call these):

    need_file(*, actor, channel, category, unit, text, resident_name="", resident_mobile="",
              address="", photos=(), source_ref="", at=None) -> Need
        The one intake for every channel (public_web, resident_account, proxy, desk,
        hotline, visit, meeting, open311). `actor` is None for the public page. Returns the
        need with `need.follow_token` (raw, shown once) set.
    need_join(*, actor, need, name, mobile="", note="") -> NeedSupporter   (附议, with
        `supporter.follow_token`)
    need_accept(*, actor, need, note="") -> Need
    need_reject(*, actor, need, reason) -> Need
    need_dispatch(*, actor, need, unit=None, party_org=None, team_id=None, team_name="",
                  person=None, note="") -> Need            (exactly one target)
    need_claim(*, actor, need, note="") -> Need           (row lock: one winner, 409 for the rest)
    need_start(*, actor, need, note="") -> Need
    need_pause(*, actor, need, note) -> Need               (waiting for the resident: clock stops)
    need_resume(*, actor, need, note="") -> Need           (deadline moved by the paused working time)
    need_resolve(*, actor, need, resolution, photos=()) -> Need
    need_rate(*, actor, need, rating, comment="") -> Need  (actor None = via the follow token;
                                                             ≥ 3 closes, ≤ 2 reopens)
    need_close(*, actor, need, note="") -> Need            (staff close a resolved need)
    need_reopen(*, actor, need, note) -> Need
    need_transfer(*, actor, need, to_unit, category=None, note) -> Need
    need_escalate(*, actor, need, note="") -> Need         (督办: owner one level up)
    need_merge(*, actor, need, into, note="") -> Need
    need_by_follow_token(token) -> Need | None
"""
