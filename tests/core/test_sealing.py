"""Sealing many values at once (hongyan.core.sealing): what it writes is what pii reads
back and looks up, in this process and in the helper process, slice after slice; a
helper that dies is an error, never a silent gap."""

import pytest

from hongyan.core import pii, sealing
from hongyan.members import bulk
from hongyan.members.models import ID_AAD, MOBILE_AAD, MOBILE_PURPOSE

IDS = ["150902197907161627", "15090219620315002X", "150902200001010012"]
MOBILES = ["13822633920", "", "15947100001"]
FIELDS = {"id_aad": "a", "mobile_aad": "b", "mobile_index_key": b"\1" * 32}


def sealer(helper: bool, monkeypatch):
    monkeypatch.setattr(sealing.os, "sched_getaffinity", lambda _pid: {0, 1})
    return bulk.row_sealer(
        helper, id_aad=ID_AAD, mobile_aad=MOBILE_AAD, mobile_purpose=MOBILE_PURPOSE
    )


@pytest.mark.parametrize("helper", [False, True], ids=["here", "helper"])
def test_sealed_values_open_with_pii_and_match_its_indexes(helper, monkeypatch):
    rows = sealer(helper, monkeypatch)
    assert isinstance(rows, sealing.HelperSealer if helper else sealing.RowSealer)
    try:
        # three slices handed over before the first is collected: they come back in order
        submitted = [rows.submit(IDS[i:], MOBILES[i:]) for i in range(3)]
        results = [rows.collect(s) for s in submitted]
    finally:
        rows.close()
    for i, (id_enc, mobile_enc, mobile_index) in enumerate(results):
        assert [pii.decrypt(v, ID_AAD) for v in id_enc] == IDS[i:]
        assert [pii.decrypt(v, MOBILE_AAD) if v else "" for v in mobile_enc] == MOBILES[i:]
        assert mobile_index == [
            pii.blind_index(m, MOBILE_PURPOSE) if m else "" for m in MOBILES[i:]
        ]
        assert all(v.startswith(pii.current_key().kid + "$") for v in id_enc)
    # a fresh nonce each time: the same number never seals to the same text
    assert results[0][0][1] != results[1][0][0]


def test_a_value_sealed_for_one_field_does_not_open_as_another(monkeypatch):
    rows = sealer(False, monkeypatch)
    id_enc, _mobile, _index = rows.collect(rows.submit(IDS[:1], MOBILES[:1]))
    with pytest.raises(pii.DecryptionError):
        pii.decrypt(id_enc[0], MOBILE_AAD)


def test_a_helper_that_dies_is_an_error(monkeypatch):
    rows = sealer(True, monkeypatch)
    try:
        rows._process.kill()
        rows._process.wait()
        rows.submit(IDS, MOBILES)
        with pytest.raises(RuntimeError, match="stopped"):
            rows.collect()
    finally:
        rows.close()


def test_small_jobs_and_single_cores_seal_here(monkeypatch):
    monkeypatch.setattr(sealing.os, "sched_getaffinity", lambda _pid: {0})
    assert isinstance(sealing.row_sealer(True, "k", b"\0" * 16, **FIELDS), sealing.RowSealer)
    monkeypatch.setattr(sealing.os, "sched_getaffinity", lambda _pid: {0, 1})
    assert isinstance(sealing.row_sealer(False, "k", b"\0" * 16, **FIELDS), sealing.RowSealer)
    big = sealing.row_sealer(True, "k", b"\0" * 16, **FIELDS)
    try:
        assert isinstance(big, sealing.HelperSealer)
    finally:
        big.close()


def test_a_helper_that_cannot_start_leaves_the_sealing_here(monkeypatch):
    def no_process(*_args, **_kwargs):
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(sealing.os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setattr(sealing.subprocess, "Popen", no_process)
    rows = sealing.row_sealer(True, "k", b"\0" * 16, **FIELDS)
    assert isinstance(rows, sealing.RowSealer)
    id_enc, _mobile, _index = rows.collect(rows.submit(IDS[:1], MOBILES[:1]))
    assert id_enc[0].startswith("k$")
