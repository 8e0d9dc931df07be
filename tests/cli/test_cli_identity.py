"""Issue 11, item 13: `--identity` takes a name or an id; an unknown one is refused in one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mirror_desktop import cli
from mirror_desktop.core import models as m
from mirror_desktop.core.enums import Visibility
from mirror_desktop.core.services import UnknownIdentity, identity_by_name_or_id
from mirror_desktop.storage.journal import SQLiteStorage


@pytest.fixture
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    monkeypatch.delenv("MIRROR_DATA_DIR", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    data = tmp_path / "data"
    s = SQLiteStorage(data / "mirror_os.db")
    try:
        work = s.identities.create(m.Identity(metadata={"name": "Work self"}))
        home = s.identities.create(m.Identity(metadata={"name": "Home"}))
        s.reflections.create(m.Reflection(content="the garden at work", identity_id=work.id,
                                          visibility=Visibility.LOCAL_ONLY))
        s.reflections.create(m.Reflection(content="the garden at home", identity_id=home.id,
                                          visibility=Visibility.LOCAL_ONLY))
        s.reflections.create(m.Reflection(content="the garden alone"))
    finally:
        s.close()
    return data, {"work": work.id, "home": home.id}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def snippets(out: str) -> list[str]:
    return sorted(h["snippet"] for h in json.loads(out))


def test_search_with_an_unknown_identity_is_refused(journal, capsys) -> None:
    data, _ = journal
    before = (data / "mirror_os.db").read_bytes()
    code, out, err = run(capsys, "--data-dir", str(data), "search", "garden", "--identity", "nope")
    assert code != 0 and out == ""
    assert err.startswith("mirror: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "'nope'" in err and "Work self" in err and "Home" in err
    assert (data / "mirror_os.db").read_bytes() == before


@pytest.mark.parametrize("given, expected", [
    ("Work self", ["the [garden] at work"]),
    ("work SELF", ["the [garden] at work"]),
    ("{home}", ["the [garden] at home"]),
    ("{home4}", ["the [garden] at home"]),
    ("Anonymous", ["the [garden] alone"]),
])
def test_search_takes_a_name_an_id_or_anonymous(given: str, expected: list[str], journal, capsys) -> None:
    data, ids = journal
    given = given.replace("{home}", ids["home"]).replace("{home4}", ids["home"][:6])
    code, out, err = run(capsys, "--data-dir", str(data), "search", "garden", "--json", "--identity", given)
    assert code == 0, err
    assert snippets(out) == expected


def test_reflect_takes_a_name(journal, capsys) -> None:
    data, ids = journal
    code, out, err = run(capsys, "--data-dir", str(data), "reflect", "--json", "--identity", "home",
                         "A long day, and part of me wanted to stay in bed.")
    assert code == 0, err
    s = SQLiteStorage(data / "mirror_os.db")
    try:
        assert s.reflections.get(json.loads(out)["reflection_id"]).identity_id == ids["home"]
    finally:
        s.close()


def test_reflect_with_an_unknown_identity_saves_nothing(journal, capsys) -> None:
    data, _ = journal
    code, _, err = run(capsys, "--data-dir", str(data), "reflect", "--identity", "nobody", "some words here")
    assert code != 0
    assert err.startswith("mirror: ") and err.count("\n") == 1 and "nothing was saved" in err
    s = SQLiteStorage(data / "mirror_os.db")
    try:
        assert s.reflections.count() == 3
    finally:
        s.close()


def test_two_identities_with_one_name_need_the_id(journal) -> None:
    data, _ = journal
    s = SQLiteStorage(data / "mirror_os.db")
    try:
        s.identities.create(m.Identity(metadata={"name": "home"}))
        with pytest.raises(UnknownIdentity, match="2 identities are named 'Home'"):
            identity_by_name_or_id(s, "Home")
        with pytest.raises(UnknownIdentity, match="none was given"):
            identity_by_name_or_id(s, "  ")
    finally:
        s.close()
