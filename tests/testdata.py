"""Where tests find their data: ``tests/data/`` in the repository, or the project's ../shared folder.

Data with a licence that allows copying lives in ``tests/data/`` (with a SOURCE.md each), so a fresh
clone runs green. Anything still read from ``../shared/testdata`` goes through ``shared_testdata``:
absent, the test skips with a reason; under ``MIRROR_CI=1`` a missing folder fails instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SHARED_TESTDATA = ROOT.parent / "shared" / "testdata"


def repo_data(*parts: str) -> Path:
    """A folder or file in tests/data (always there: it is part of the repository)."""
    return DATA.joinpath(*parts)


def shared_testdata(*parts: str) -> Path:
    """A path under ../shared/testdata, or skip (fail under MIRROR_CI=1) when it is not there."""
    path = SHARED_TESTDATA.joinpath(*parts)
    if not path.exists():
        reason = (f"needs {Path('..', 'shared', 'testdata', *parts)} beside the repository, which a fresh "
                  "clone does not have")
        if os.environ.get("MIRROR_CI") == "1":
            pytest.fail(f"{reason} (MIRROR_CI=1: test data must be present in CI)")
        pytest.skip(reason)
    return path
