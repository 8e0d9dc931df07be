"""Nothing typed is lost: concurrent edits keep both texts, deletions travel as tombstones, an edit beats a delete."""

from __future__ import annotations

import time
from collections.abc import Callable

from .conftest import PASSPHRASE, Device


def _pair(alice: str, devices: Callable[[str], Device]) -> tuple[Device, Device, str]:
    a, b = devices("a"), devices("b")
    me = a.identity("Me")
    rid = a.write("the original text", me)
    for d in (a, b):
        d.sync.setup(alice, PASSPHRASE)
        d.sync.sync_now()
    return a, b, rid


def _edit(d: Device, rid: str, text: str) -> None:
    r = d.storage.reflections.get(rid)
    d.journal.save_reflection(text, reflection_id=rid, identity_id=r.identity_id, visibility=str(r.visibility))


def test_concurrent_edits_keep_both_texts_later_in_place(alice: str, devices: Callable[[str], Device]) -> None:
    a, b, rid = _pair(alice, devices)
    _edit(a, rid, "edited on the laptop first")
    time.sleep(0.01)
    _edit(b, rid, "edited on the desktop later")
    a.sync.sync_now()
    rb = b.sync.sync_now()
    assert rb.conflicts == 1
    a.sync.sync_now()
    for d in (a, b):
        assert d.storage.reflections.get(rid).content == "edited on the desktop later"
        copies = [r for r in d.storage.reflections.iter_all() if (r.metadata or {}).get("conflict_of") == rid]
        assert [c.content for c in copies] == ["edited on the laptop first"]
    assert a.storage.reflections.count() == b.storage.reflections.count() == 2
    # converged: nothing more moves
    assert (a.sync.sync_now().pushed, b.sync.sync_now().pushed) == (0, 0)


def test_the_later_local_edit_stays_and_the_earlier_remote_becomes_the_copy(alice: str,
                                                                          devices: Callable[[str], Device]) -> None:
    a, b, rid = _pair(alice, devices)
    _edit(b, rid, "desktop, earlier")
    time.sleep(0.01)
    _edit(a, rid, "laptop, later")
    b.sync.sync_now()
    assert a.sync.sync_now().conflicts == 1
    b.sync.sync_now()
    for d in (a, b):
        assert d.storage.reflections.get(rid).content == "laptop, later"
        assert {r.content for r in d.storage.reflections.iter_all()} == {"laptop, later", "desktop, earlier"}


def test_an_edit_beats_a_concurrent_deletion(alice: str, devices: Callable[[str], Device]) -> None:
    a, b, rid = _pair(alice, devices)
    a.journal.delete_reflection(rid)
    _edit(b, rid, "still writing here")
    a.sync.sync_now()
    b.sync.sync_now()
    a.sync.sync_now()
    assert a.storage.reflections.get(rid).content == b.storage.reflections.get(rid).content == "still writing here"


def test_a_deletion_travels_as_a_tombstone(alice: str, devices: Callable[[str], Device]) -> None:
    a, b, rid = _pair(alice, devices)
    b.journal.delete_reflection(rid)
    assert b.sync.sync_now().sent == {"tombstone": 1}
    report = a.sync.sync_now()
    assert report.received == {"deleted": 1}
    assert a.storage.reflections.find(rid) is None and a.storage.reflections.count() == 0
