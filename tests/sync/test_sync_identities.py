"""Identities at the first sync (issue 18, item 4): asked once, never held back, linked by window or CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mirror_desktop.cli import main
from mirror_desktop.core.errors import MirrorError

from .conftest import PASSPHRASE, Device


def run(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), "sync", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _two(alice: str, devices: Callable[[str], Device], n: int = 3) -> tuple[Device, Device, str, str]:
    a, b = devices("a"), devices("b")
    work = a.identity("Work")
    for i in range(n):
        a.write(f"laptop entry {i}", work)
    home = b.identity("Home")
    for d in (a, b):
        d.sync.setup(alice, PASSPHRASE)
    a.sync.sync_now()
    return a, b, work, home


def test_first_sync_asks_before_applying_and_the_answer_is_where_rows_land(alice: str,
                                                                           devices: Callable[[str], Device]) -> None:
    a, b, _work, home = _two(alice, devices)
    asked = b.sync.incoming_identities()
    assert [(q["reflections"], q["identity_id"]) for q in asked] == [(3, None)]
    assert b.texts() == set()  # asking pulled, applied nothing
    b.sync.answer_identities([{"identity_key": asked[0]["identity_key"], "identity_id": home}])
    report = b.sync.sync_now()
    assert report.pulled == 3 and report.new_identities == [] and not report.warnings
    assert {r.identity_id for r in b.storage.reflections.iter_all()} == {home}
    assert [i.name for i in b.storage.identities.list()] == ["Home"]
    # answered: never asked again, even when more arrive
    a.write("later entry", a.storage.identities.list()[0].id)
    a.sync.sync_now()
    assert b.sync.incoming_identities() == []
    b.sync.sync_now()
    assert {r.identity_id for r in b.storage.reflections.iter_all()} == {home}
    keys = b.sync.identity_keys()
    assert [(k["reflections"], k["name"], k["answered"]) for k in keys] == [(4, "Home", True)]


def test_a_new_identity_with_the_persons_name(alice: str, devices: Callable[[str], Device]) -> None:
    _a, b, _work, home = _two(alice, devices)
    key = b.sync.incoming_identities()[0]["identity_key"]
    with pytest.raises(MirrorError, match="already have an identity called"):
        b.sync.answer_identities([{"identity_key": key, "name": "home"}])
    assert b.sync.incoming_identities()[0]["identity_key"] == key  # a refused answer changed nothing
    b.sync.answer_identities([{"identity_key": key, "name": "Laptop work"}])
    b.sync.sync_now()
    names = {i.id: i.name for i in b.storage.identities.list()}
    assert sorted(names.values()) == ["Home", "Laptop work"]
    assert {names[r.identity_id] for r in b.storage.reflections.iter_all()} == {"Laptop work"}


def test_background_sync_loses_nothing_and_asks_later_once(alice: str, devices: Callable[[str], Device]) -> None:
    """A sync nobody started (schedule, NOTIFY, the CLI) lands rows in an identity made for the key."""
    _a, b, _work, home = _two(alice, devices)
    report = b.sync.sync_now()
    assert report.pulled == 3
    assert [n["name"] for n in report.new_identities] == ["From another device"]
    assert len(report.warnings) == 1 and "3 reflections" in report.warnings[0] and "mirror sync link" in report.warnings[0]
    asked = b.sync.incoming_identities()
    assert [(q["reflections"], q["name"]) for q in asked] == [(3, "From another device")]
    b.sync.answer_identities([{"identity_key": asked[0]["identity_key"], "identity_id": home}])
    assert {r.identity_id for r in b.storage.reflections.iter_all()} == {home}
    assert [i.name for i in b.storage.identities.list()] == ["Home"]  # the made identity went
    assert b.sync.incoming_identities() == []
    assert not b.sync.sync_now().warnings


def test_three_devices_two_identities(alice: str, devices: Callable[[str], Device]) -> None:
    a, b, c = devices("a"), devices("b"), devices("c")
    a.write("from a", a.identity("Alpha"))
    b.write("from b", b.identity("Beta"))
    c_me = c.identity("Mine")
    for d in (a, b, c):
        d.sync.setup(alice, PASSPHRASE)
    a.sync.sync_now()
    b.sync.sync_now()
    asked = c.sync.incoming_identities()
    assert sorted(q["reflections"] for q in asked) == [1, 1]
    c.sync.answer_identities([{"identity_key": asked[0]["identity_key"], "identity_id": c_me},
                              {"identity_key": asked[1]["identity_key"], "name": "Second"}])
    c.sync.sync_now()
    names = {i.id: i.name for i in c.storage.identities.list()}
    assert sorted(names[r.identity_id] for r in c.storage.reflections.iter_all()) == ["Mine", "Second"]
    # b learns a's identity: an answered key on c says nothing about b
    assert len(b.sync.incoming_identities()) == 1


def test_cli_identities_and_link(capsys: pytest.CaptureFixture[str], alice: str,
                                 devices: Callable[[str], Device]) -> None:
    a, b, _work, home = _two(alice, devices)
    b.close()
    code, out, err = run(capsys, b.path, "now", "--json")
    assert code == 0, err
    report = json.loads(out)
    for field in ("pushed", "pulled", "conflicts"):
        assert field in report
    assert report["pulled"] == 3 and report["new_identities"][0]["name"] == "From another device"
    code, out, err = run(capsys, b.path, "now")
    assert code == 0 and "landed in" not in out  # nothing new landed
    code, out, _ = run(capsys, b.path, "identities", "--json")
    keys = json.loads(out)
    assert [(k["reflections"], k["name"], k["answered"]) for k in keys] == [(3, "From another device", False)]
    key = keys[0]["identity_key"]

    def unchanged() -> None:
        code, out, _ = run(capsys, b.path, "identities", "--json")
        assert json.loads(out) == keys

    for bad, words in ((["link", "zzzzzz", "Home"], "No identity from another device"),
                       (["link", key, "Nobody"], "Nobody"),
                       (["link", key], "either"),
                       (["link", key, "Home", "--new", "X"], "either"),
                       (["link", key, "--new", "home"], "already have an identity")):
        code, out, err = run(capsys, b.path, *bad)
        assert code == 2 and words in err and err.count("\n") == 1, (bad, err)
        unchanged()
    code, out, err = run(capsys, b.path, "link", key[:8], "Home")
    assert code == 0 and "“Home”" in out and "3 moved" in out, err
    code, out, _ = run(capsys, b.path, "identities", "--json")
    assert [(k["name"], k["answered"]) for k in json.loads(out)] == [("Home", True)]
    code, out, err = run(capsys, b.path, "link", key, "--new", "Laptop", "--json")
    assert code == 0 and json.loads(out)["moved"] == 3, err
    code, out, _ = run(capsys, b.path, "identities")
    assert "“Laptop”" in out and "not linked yet" not in out


def test_linking_later_sends_nothing_and_never_brings_back_what_another_device_deleted(
        alice: str, devices: Callable[[str], Device]) -> None:
    """Moving rows into the linked identity is this device's own filing, not an edit: nothing is queued to send,
    so a reflection the other device deleted meanwhile is not sent back over its tombstone (it came back before)."""
    a, b, _work, home = _two(alice, devices, n=1)
    assert b.sync.sync_now().pulled == 1  # landed in the identity made for the key
    rid = next(iter(a.storage.reflections.iter_all())).id
    a.journal.delete_reflection(rid)
    a.sync.sync_now()
    key = b.sync.identity_keys()[0]["identity_key"]
    b.sync.answer_identities([{"identity_key": key, "identity_id": home}])
    report = b.sync.sync_now()
    assert report.pushed == 0
    assert b.texts() == set()  # the deletion reached this device
    a.sync.sync_now()
    assert a.texts() == set()  # and nothing came back to the device that deleted it
