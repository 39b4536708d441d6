"""`hongyan manage rotate_field_keys`: every ID number and mobile moves to the new key,
search by blind index keeps working before, during and after."""

import base64
import io

import pytest
from django.core.management import call_command

from hongyan.core import pii
from hongyan.core.models import AuditEntry
from hongyan.members.models import Member
from hongyan.members.selectors import member_list

pytestmark = pytest.mark.django_db

NEW_KEY = "k9:" + base64.b64encode(b"N" * 16).decode()


def test_rotation(people, bob, settings):
    old_raw = settings.FIELD_KEYS_RAW
    old_kid = pii.current_key().kid
    settings.FIELD_KEYS_RAW = f"{NEW_KEY},{old_raw}"
    # half-way: old values still open and are still found by their old index
    assert list(member_list(bob, q=people.liang_id)) == [people.liang]
    call_command("rotate_field_keys", stdout=io.StringIO())
    for member in Member.objects.all():
        assert pii.key_id_of(member.id_number_enc) == "k9"
        assert member.mobile_enc == "" or pii.key_id_of(member.mobile_enc) == "k9"
    # the old key can go now
    settings.FIELD_KEYS_RAW = NEW_KEY
    liang = Member.objects.get(pk=people.liang.pk)
    assert liang.id_number == people.liang_id and liang.mobile == people.liang_mobile
    assert list(member_list(bob, q=people.liang_id)) == [people.liang]
    assert list(member_list(bob, q=people.liang_mobile)) == [people.liang]
    entry = AuditEntry.objects.filter(action="pii.rotate_keys").last()
    assert entry.detail["key"] == "k9" and old_kid != "k9"


def test_rotation_without_the_old_key_fails_loudly(people, settings):
    settings.FIELD_KEYS_RAW = NEW_KEY
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="keep every old key"):
        call_command("rotate_field_keys", stdout=io.StringIO())
