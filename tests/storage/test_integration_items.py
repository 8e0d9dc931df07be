"""integration_items (migration 003) on SQLite and PostgreSQL: the same test bodies on both."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mirror_desktop.core import models as m
from mirror_desktop.core.enums import IntegrationStatus, IntegrationType
from mirror_desktop.core.errors import ConstraintError, ValidationError


def _integration(storage: Any) -> m.Integration:
    return storage.integrations.create(m.Integration(integration_type=IntegrationType.CALENDAR,
                                                     config={"provider": "ics_file", "path": "/x.ics"},
                                                     status=IntegrationStatus.ACTIVE))


def _item(iid: str, ext: str, start: datetime, **kw: Any) -> m.IntegrationItem:
    return m.IntegrationItem(integration_id=iid, external_id=ext, kind="event", version="v1", title=ext,
                             starts_at=start, ends_at=start + timedelta(hours=1), **kw)


def test_items_round_trip_and_key(storage: Any) -> None:
    integ = _integration(storage)
    day = datetime(2026, 3, 14, 9, tzinfo=UTC)
    storage.integration_items.create(_item(integ.id, "uid-1", day, metadata={"location": "Café"}))
    got = storage.integration_items.find_pair(integ.id, "uid-1")
    assert got is not None and got.title == "uid-1" and got.starts_at == day and got.metadata == {"location": "Café"}
    assert storage.integration_items.versions(integ.id) == {"uid-1": "v1"}
    with pytest.raises(ConstraintError):  # (integration, external id) is the key: never duplicated
        storage.integration_items.create(_item(integ.id, "uid-1", day))
    storage.integration_items.update(replace(got, version="v2", title="moved"))
    assert storage.integration_items.find_pair(integ.id, "uid-1").title == "moved"


def test_day_overlap_window_and_cascade(storage: Any) -> None:
    integ = _integration(storage)
    day = datetime(2026, 3, 14, tzinfo=UTC)
    storage.integration_items.create(_item(integ.id, "morning", day + timedelta(hours=9)))
    storage.integration_items.create(_item(integ.id, "night-before", day - timedelta(hours=1)))  # ends at 00:00
    storage.integration_items.create(_item(integ.id, "next-day", day + timedelta(days=1, hours=1)))
    storage.integration_items.create(m.IntegrationItem(integration_id=integ.id, external_id="allday", kind="event",
                                                       version="v", starts_at=day, ends_at=day + timedelta(days=1),
                                                       all_day=True))
    on_day = [i.external_id for i in storage.integration_items.overlapping(day, day + timedelta(days=1))]
    assert on_day == ["allday", "morning"]
    assert sorted(storage.integration_items.in_window(integ.id, day, day + timedelta(days=1))) == ["allday", "morning"]
    assert storage.integration_items.delete_pairs(integ.id, ["morning"]) == 1
    assert storage.integration_items.count_by_integration() == {integ.id: 3}
    storage.integrations.delete(integ.id)
    assert storage.integration_items.count() == 0  # items go with their integration


def test_reflection_link_is_cleared_when_the_reflection_goes(storage: Any) -> None:
    integ = _integration(storage)
    refl = storage.reflections.create(m.Reflection(content="from a note"))
    storage.integration_items.create(m.IntegrationItem(integration_id=integ.id, external_id="a.md", kind="note",
                                                       version="v", reflection_id=refl.id))
    storage.reflections.delete(refl.id)
    assert storage.integration_items.find_pair(integ.id, "a.md").reflection_id is None


def test_bad_items_are_refused(storage: Any) -> None:
    integ = _integration(storage)
    day = datetime(2026, 3, 14, tzinfo=UTC)
    with pytest.raises(ValidationError):
        storage.integration_items.create(replace(_item(integ.id, "x", day), kind="todo"))
    with pytest.raises(ValidationError):
        storage.integration_items.create(replace(_item(integ.id, "x", day), ends_at=day - timedelta(hours=1)))
    with pytest.raises(ConstraintError):  # unknown integration: the foreign key refuses it
        storage.integration_items.create(_item("no-such-integration", "x", day))


def test_day_items_follow_the_identity_switcher(storage: Any) -> None:
    work = storage.identities.create(m.Identity(metadata={"name": "Work"}))
    home = storage.identities.create(m.Identity(metadata={"name": "Home"}))
    day = datetime(2026, 3, 14, tzinfo=UTC)
    for ident, ext in ((work.id, "standup"), (home.id, "dinner"), (None, "holiday")):
        integ = storage.integrations.create(m.Integration(integration_type=IntegrationType.CALENDAR, identity_id=ident,
                                                          config={"provider": "ics_file"}, status=IntegrationStatus.ACTIVE))
        storage.integration_items.create(_item(integ.id, ext, day + timedelta(hours=10)))
    end = day + timedelta(days=1)
    assert sorted(i.external_id for i in storage.integration_items.overlapping(day, end)) == ["dinner", "holiday", "standup"]
    assert sorted(i.external_id for i in storage.integration_items.overlapping(day, end, identity_id=work.id)) == \
        ["holiday", "standup"]
