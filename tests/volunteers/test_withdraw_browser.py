"""At 375 px (and at a desk): 王芳 leaves the volunteer register from her own record
page with a reason; the page then says when and why, and her hours stay."""

import re

import pytest

from hongyan.volunteers import services
from hongyan.volunteers.models import Volunteer

from .test_journey import log_in, no_sideways_scroll, phone, world  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_volunteer_leaves_on_a_phone(browser, live_server, world, shot):  # noqa: F811
    from hongyan.core.models import User

    wang = services.volunteer_join(actor=User.objects.get(username="wangfang"))
    refused = []
    base = live_server.url
    page = phone(browser, refused)
    log_in(page, base, "wangfang")
    page.goto(f"{base}/volunteers/people/{wang.pk}/")
    page.get_by_text("退出志愿者队伍").click()
    page.get_by_label("退出原因").fill("搬离本社区")
    no_sideways_scroll(page)
    shot(page, "volunteers-phone-20-withdraw")
    page.get_by_role("button", name="确认退出").click()
    page.wait_for_url(re.compile(r"/volunteers/people/\d+/$"))
    page.locator("#withdrawn").wait_for()
    assert "搬离本社区" in page.locator("#withdrawn").inner_text()
    assert page.get_by_role("button", name="确认退出").count() == 0
    no_sideways_scroll(page)
    shot(page, "volunteers-phone-21-withdrawn")
    assert not Volunteer.objects.get(pk=wang.pk).active

    desk = phone(browser, refused)
    desk.set_viewport_size({"width": 1280, "height": 900})
    log_in(desk, base, "lidz")  # the leader's own page shows the form too
    leader = Volunteer.objects.get(account__username="lidz")
    desk.goto(f"{base}/volunteers/people/{leader.pk}/")
    desk.get_by_text("退出志愿者队伍").click()
    desk.get_by_label("退出原因").fill("工作调动")
    shot(desk, "volunteers-desk-22-withdraw")
    desk.get_by_role("button", name="确认退出").click()
    desk.wait_for_url(re.compile(r"/volunteers/people/\d+/$"))
    assert "恩和路暖心小分队" in desk.locator("main").inner_text()  # leads an active team
    assert Volunteer.objects.get(pk=leader.pk).active
    shot(desk, "volunteers-desk-23-refused")
    assert not refused, refused
