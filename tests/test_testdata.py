"""Issue 11, item 16: the suite is green on a fresh clone, without the project's ../shared folder.

Licensed-to-copy data lives in tests/data with a SOURCE note; nothing else in the suite builds a
path outside the repository except through tests/testdata.py, which skips with a reason (and
fails under MIRROR_CI=1) when the data is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import testdata

TESTS = Path(__file__).resolve().parent
# Ways a test could reach past the repository into the project's shared folder.
OUTSIDE = re.compile(r"""["']shared["']|\.\./shared|/work/shared|parents\[\d\]\.parent""")


def test_every_data_folder_says_where_its_files_come_from() -> None:
    folders = [p for p in testdata.DATA.iterdir() if p.is_dir()]
    assert {p.name for p in folders} >= {"age-vectors", "ics"}
    for folder in folders:
        note = (folder / "SOURCE.md").read_text()
        assert "licen" in note.lower(), f"{folder.name}/SOURCE.md names no licence"


def test_the_age_vectors_and_the_icalendar_samples_are_in_the_repository() -> None:
    vectors = [p for p in testdata.repo_data("age-vectors").iterdir() if p.name != "SOURCE.md"]
    assert len(vectors) == 143
    assert all(p.read_bytes().startswith(b"expect: ") for p in vectors)
    calendars = sorted(p.name for p in testdata.repo_data("ics").glob("*.ics"))
    assert len(calendars) == 10 and {"big_bad_calendar.ics", "parsing_error.ics", "example.ics"} <= set(calendars)
    assert all(b"BEGIN:VCALENDAR" in testdata.repo_data("ics", n).read_bytes() for n in calendars)


def test_no_test_reads_the_shared_folder_except_through_the_helper() -> None:
    offenders = []
    for path in TESTS.rglob("*.py"):
        if path.name in {"testdata.py", "test_testdata.py"} or "data" in path.relative_to(TESTS).parts[:1]:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(TESTS)}:{n}: {line.strip()}")
    assert offenders == []


def test_missing_shared_data_skips_with_a_reason_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(testdata, "SHARED_TESTDATA", tmp_path / "no-such-folder")
    monkeypatch.delenv("MIRROR_CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        testdata.shared_testdata("imports", "jrnl")
    assert "fresh clone" in str(skipped.value)
    monkeypatch.setenv("MIRROR_CI", "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        testdata.shared_testdata("imports", "jrnl")
    assert "MIRROR_CI=1" in str(failed.value)
    (tmp_path / "no-such-folder" / "imports" / "jrnl").mkdir(parents=True)
    assert testdata.shared_testdata("imports", "jrnl").is_dir()
