"""The writing summaries and settings of migration 005 (issue 16): small aggregate reads for the
calendar, On This Day and statistics, and the rebuild when the person's time zone or day start changes.

The summaries (writing_days, writing_hours, writing_tags) are kept by triggers; this module only
reads them, and rewrites writing_zone and the day and hour summaries in one pass on a rebuild.
Rows whose count fell to 0 are kept by the triggers and skipped here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from mirror_desktop.core import models as m
from mirror_desktop.core.models import utc_now

_SQLITE_WORDS = ("CASE WHEN json_type(r.metadata, '$.word_count') IN ('integer', 'real') "
                 "THEN max(CAST(json_extract(r.metadata, '$.word_count') AS INTEGER), 0) "
                 "ELSE length(trim(r.content)) - length(replace(trim(r.content), ' ', '')) + 1 END")
_SQLITE_SHIFT = ("(SELECT printf('%+d minutes', {col}) FROM writing_zone WHERE starts_at <= r.created_at "
                 "ORDER BY starts_at DESC LIMIT 1)")
SQLITE_ZONE_START = "0000-01-01T00:00:00.000Z"
# writing_days rows of everyone together ("All" in the window): no identity id can be "*".
EVERYONE_KEY = "*"


def _day(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value))


class WritingStore:
    """Reads and rebuilds of the writing summaries on one storage (SQLite or PostgreSQL)."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    @property
    def _db(self) -> Any:
        return self.storage.db

    @property
    def _sqlite(self) -> bool:
        return bool(self.storage.dialect == "sqlite")

    def _p(self) -> str:
        return str(self._db.param)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._db.execute_sql(sql, list(params)).fetchall())

    def available(self) -> bool:
        """Whether the journal has migration 005's tables (a journal at an older schema has not)."""
        return "writing_days" in self._db.get_tables()

    # -- settings ------------------------------------------------------------------------
    def get_setting(self, key: str) -> Any:
        p = self._p()
        rows = self._rows(f"SELECT value FROM writing_settings WHERE key = {p}", [key])
        if not rows:
            return None
        value = rows[0][0]
        return json.loads(value) if isinstance(value, (str, bytes)) else value

    def set_setting(self, key: str, value: Any) -> None:
        p = self._p()
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        now: Any = utc_now()
        if self._sqlite:
            from mirror_desktop.storage.models import format_sqlite_timestamp

            now = format_sqlite_timestamp(now)
        cast = "" if self._sqlite else "::jsonb"
        with self.storage.transaction():
            self._db.execute_sql(
                f"INSERT INTO writing_settings (key, value, updated_at) VALUES ({p}, {p}{cast}, {p}) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                [key, text, now])

    # -- rebuild -------------------------------------------------------------------------
    def rebuild(self, periods: Sequence[tuple[datetime | None, int, int]]) -> None:
        """Replace writing_zone with ``periods`` (start or None for "always", hour shift, day shift in
        minutes) and recount the day and hour summaries from every reflection, in one transaction."""
        p = self._p()
        with self.storage.transaction():
            self._db.execute_sql("DELETE FROM writing_zone")
            for start, hour_shift, day_shift in periods:
                if self._sqlite:
                    from mirror_desktop.storage.models import format_sqlite_timestamp

                    at: Any = SQLITE_ZONE_START if start is None else format_sqlite_timestamp(start)
                    self._db.execute_sql(f"INSERT INTO writing_zone VALUES ({p}, {p}, {p})", [at, hour_shift, day_shift])
                elif start is None:
                    self._db.execute_sql(f"INSERT INTO writing_zone VALUES ('-infinity', {p}, {p})", [hour_shift, day_shift])
                else:
                    self._db.execute_sql(f"INSERT INTO writing_zone VALUES ({p}, {p}, {p})", [start, hour_shift, day_shift])
            self._db.execute_sql("DELETE FROM writing_days")
            self._db.execute_sql("DELETE FROM writing_hours")
            if self._sqlite:
                day_shift_sql = _SQLITE_SHIFT.format(col="day_shift")
                hour_shift_sql = _SQLITE_SHIFT.format(col="hour_shift")
                self._db.execute_sql(
                    "INSERT INTO writing_days (identity_key, day, reflections, words) "
                    f"SELECT coalesce(r.identity_id, ''), date(r.created_at, {day_shift_sql}), count(*), sum({_SQLITE_WORDS}) "
                    "FROM reflections r GROUP BY 1, 2")
                self._db.execute_sql(
                    "INSERT INTO writing_hours (identity_key, hour, reflections) "
                    f"SELECT coalesce(r.identity_id, ''), CAST(strftime('%H', r.created_at, {hour_shift_sql}) AS INTEGER), "
                    "count(*) FROM reflections r GROUP BY 1, 2")
            else:
                self._db.execute_sql(
                    "INSERT INTO writing_days (identity_key, day, reflections, words) "
                    "SELECT coalesce(identity_id, ''), ((created_at AT TIME ZONE 'UTC') "
                    "+ make_interval(mins => mirror_writing_shift(created_at, TRUE)))::date, count(*), "
                    "sum(mirror_writing_words(content, metadata)) FROM reflections GROUP BY 1, 2")
                self._db.execute_sql(
                    "INSERT INTO writing_hours (identity_key, hour, reflections) "
                    "SELECT coalesce(identity_id, ''), extract(hour FROM (created_at AT TIME ZONE 'UTC') "
                    "+ make_interval(mins => mirror_writing_shift(created_at, FALSE)))::int, count(*) "
                    "FROM reflections GROUP BY 1, 2")
            self._db.execute_sql("INSERT INTO writing_days (identity_key, day, reflections, words) "
                                 f"SELECT {EVERYONE_KEY!r}, day, sum(reflections), sum(words) FROM writing_days GROUP BY day")

    # -- reads ---------------------------------------------------------------------------
    def _scope(self, key: str | None, column: str = "identity_key") -> tuple[str, list[Any]]:
        return ("", []) if key is None else (f" AND {column} = {self._p()}", [key])

    def _day_param(self, d: date) -> Any:
        return d.isoformat() if self._sqlite else d

    def days(self, key: str | None, since: date | None = None, until: date | None = None) -> list[tuple[date, int, int]]:
        """(day, reflections, words) per local day with writing, in day order, within [since, until]."""
        p = self._p()
        where, params = self._scope(EVERYONE_KEY if key is None else key)
        if since is not None:
            where += f" AND day >= {p}"
            params.append(self._day_param(since))
        if until is not None:
            where += f" AND day <= {p}"
            params.append(self._day_param(until))
        sql = f"SELECT day, reflections, words FROM writing_days WHERE reflections > 0{where} ORDER BY day"
        rows = self._rows(sql, params)
        if self._sqlite:  # text days and int counts: the one conversion, done plainly (5,000 rows a call)
            iso = date.fromisoformat
            return [(iso(d), n, w) for d, n, w in rows]
        return [(_day(d), int(n), int(w)) for d, n, w in rows]

    def days_on(self, month_days: Sequence[str], before: date, key: str | None) -> list[date]:
        """Days with writing whose "MM-DD" is one of ``month_days``, before ``before``, newest first."""
        if not month_days:
            return []
        p = self._p()
        where, params = self._scope(EVERYONE_KEY if key is None else key)
        marks = ", ".join([p] * len(month_days))
        md = "substr(day, 6, 5)" if self._sqlite else "to_char(day, 'MM-DD')"
        sql = (f"SELECT day FROM writing_days WHERE reflections > 0 AND {md} IN ({marks}) AND day < {p}{where} "
               "ORDER BY day DESC")
        return [_day(r[0]) for r in self._rows(sql, [*month_days, self._day_param(before), *params])]

    def hours(self, key: str | None) -> list[int]:
        where, params = self._scope(key)
        out = [0] * 24
        for hour, n in self._rows(f"SELECT hour, sum(reflections) FROM writing_hours WHERE reflections > 0{where} "
                                  "GROUP BY hour", params):
            if 0 <= int(hour) < 24:
                out[int(hour)] = int(n)
        return out

    def tags(self, key: str | None, limit: int | None = None) -> list[tuple[str, int]]:
        """(tag, reflections), most used first, then by tag."""
        where, params = self._scope(key)
        sql = (f"SELECT tag, sum(reflections) AS n FROM writing_tags WHERE reflections > 0{where} "
               "GROUP BY tag ORDER BY n DESC, tag")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [(str(t), int(n)) for t, n in self._rows(sql, params)]

    # -- reflections by time ---------------------------------------------------------------
    def _scope_sql(self, identity_id: str | None, anonymous_only: bool) -> tuple[str, list[Any]]:
        if anonymous_only:
            return " AND r.identity_id IS NULL", []
        if identity_id is not None:
            return f" AND r.identity_id = {self._p()}", [identity_id]
        return "", []

    def reflections_in(self, ranges: Sequence[tuple[datetime, datetime]], identity_id: str | None = None,
                       anonymous_only: bool = False, limit: int | None = None) -> list[m.Reflection]:
        """Reflections with created_at in any of the [start, end) ranges, newest first, in one query."""
        if not ranges:
            return []
        p = self._p()
        ts: Any = self.storage.models.Reflection.created_at
        where, sparams = self._scope_sql(identity_id, anonymous_only)
        # One range read per day on the created_at index (an OR of ranges would scan the table).
        part = f"SELECT r.* FROM reflections r WHERE r.created_at >= {p} AND r.created_at < {p}{where}"
        params: list[Any] = []
        for start, end in ranges:
            params += [ts.db_value(start), ts.db_value(end), *sparams]
        sql = "SELECT * FROM (" + " UNION ALL ".join(part for _ in ranges) + ") AS u ORDER BY created_at DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        R: Any = self.storage.models.Reflection
        repo = self.storage.reflections
        return [repo.to_dc(r) for r in R.raw(sql, *params)]

    def timestamps(self, identity_id: str | None = None, anonymous_only: bool = False,
                   since: datetime | None = None, until: datetime | None = None) -> list[tuple[datetime, int]]:
        """(created_at, words) of every reflection in scope: the direct path while summaries are stale."""
        p = self._p()
        where, params = self._scope_sql(identity_id, anonymous_only)
        ts: Any = self.storage.models.Reflection.created_at
        if since is not None:
            where += f" AND r.created_at >= {p}"
            params.append(ts.db_value(since))
        if until is not None:
            where += f" AND r.created_at < {p}"
            params.append(ts.db_value(until))
        words = _SQLITE_WORDS if self._sqlite else "mirror_writing_words(r.content, r.metadata)"
        rows = self._rows(f"SELECT r.created_at, {words} FROM reflections r WHERE 1 = 1{where}", params)
        return [(ts.python_value(c), int(w)) for c, w in rows]

    def tagged_ids(self, tags: Sequence[str]) -> list[str]:
        """Ids of reflections carrying any of ``tags`` (compared in lower case)."""
        if not tags:
            return []
        ors = " OR ".join([self.storage._tag_sql] * len(tags))
        return [str(r[0]) for r in self._rows(f"SELECT r.id FROM reflections r WHERE {ors}", [t.lower() for t in tags])]
