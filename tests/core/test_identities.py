"""Identity names are unique (spaces and case aside) in the core service, so the CLI and the window agree."""

import pytest

from mirror_desktop.core.errors import ValidationError
from mirror_desktop.core.services import JournalService
from mirror_desktop.storage.journal import SQLiteStorage


@pytest.fixture
def svc(tmp_path):
    storage = SQLiteStorage(tmp_path / "j.db")
    yield JournalService(storage)
    storage.close()


def test_a_second_identity_with_the_same_name_is_refused_in_one_sentence(svc):
    svc.create_identity("Work self")
    with pytest.raises(ValidationError, match="already have an identity called “Work self”"):
        svc.create_identity("  work  SELF ")
    assert [i.name for i in svc.list_identities()] == ["Work self"]


def test_renaming_onto_another_name_is_refused_but_a_new_spelling_of_its_own_is_not(svc):
    work = svc.create_identity("Work self")
    home = svc.create_identity("Home")
    with pytest.raises(ValidationError, match="choose another name"):
        svc.update_identity(home.id, name="work self")
    assert svc.update_identity(work.id, name="Work Self").name == "Work Self"
    assert sorted(i.name for i in svc.list_identities()) == ["Home", "Work Self"]


def test_an_empty_name_is_refused(svc):
    with pytest.raises(ValidationError, match="needs a name"):
        svc.create_identity("   ")
