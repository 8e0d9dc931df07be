"""The nightly writer's habits (issue 16): calendar counts, On This Day, streaks and statistics, tags,
backdating and reminders, over one journal, with no Qt.

Days are the person's local days: a reflection's UTC ``created_at`` is shifted by the UTC offset of the
person's time zone at that instant (``WritingSettings.time_zone``; None means the system's zone) and,
for the day only, back by ``day_start_hour`` (default 0: the calendar day; 4 makes a 01:30 entry count
for the day before). The journal keeps small summaries per local day, per local hour and per tag,
maintained by triggers (migration 005), so a month, On This Day and the statistics are one small
aggregate read even at 100,000 reflections; changing the zone or the day start rebuilds them once.
"""

from __future__ import annotations

import os
import re
from time import monotonic as _monotonic
import unicodedata
from calendar import monthrange
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mirror_desktop.core import models as m
from mirror_desktop.core.errors import ValidationError
from mirror_desktop.core.models import utc_now
from mirror_desktop.core.ports import MirrorStorage

# -- rules -----------------------------------------------------------------------------------------
TAG_MAX = 64
# A tag is one "word" so that ``#tag`` and ``tag:x`` can find it in search: letters, digits, marks,
# emoji and other symbols, and - _ . / + &. Whitespace, '#', quotes and commas cannot be typed in a
# search for it (or split it), so they are refused; emoji are allowed (a person's #🌙 is findable).
_TAG_REFUSED = re.compile(r"[\s#\"',;]")
# The earliest date a reflection may carry: older is almost certainly a typo (0202 for 2020).
EARLIEST_DATE = date(1900, 1, 1)
# A reflection may be dated a little after "now": clocks of two devices disagree by minutes.
FUTURE_SLACK = timedelta(minutes=5)
REMINDER_HISTORY_DAYS = 14
# The statistics' per-day maps cover this many days up to today: the year's heat map (53 weeks).
HEAT_DAYS = 371  # how many fired days are remembered (a clock set back cannot repeat one)
# Names of UTC itself: a journal summarised in "UTC" (migration 005) needs no rebuild for them.
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu",
                        "GMT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "GMT0", "Etc/Greenwich", "Greenwich"})
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _err(field_: str, rule: str, message: str) -> ValidationError:
    return ValidationError("writing", field_, rule, message)


def normalize_tag(text: str) -> str:
    """A tag as stored: trimmed, a leading '#' dropped, NFC; or one sentence why it cannot be a tag.

    Spaces are refused (``#tag`` search could never find "two words"); emoji are allowed.
    """
    tag = unicodedata.normalize("NFC", str(text)).strip()
    tag = tag[1:] if tag.startswith("#") else tag
    if not tag:
        raise _err("tag", "cannot be empty", "A tag cannot be empty; write a word such as sleep.")
    if len(tag) > TAG_MAX:
        raise _err("tag", f"at most {TAG_MAX} characters", f"A tag can be at most {TAG_MAX} characters long; "
                   f"{tag[:20]!r}… has {len(tag)}.")
    if any(unicodedata.category(ch) == "Cc" for ch in tag):
        raise _err("tag", "no control characters", "A tag cannot hold control characters; type it as plain text.")
    bad = _TAG_REFUSED.search(tag)
    if bad is not None:
        what = "spaces" if bad.group().isspace() else repr(bad.group())
        raise _err("tag", "one word", f"The tag {tag!r} holds {what}, which search cannot find; "
                   "use one word, joined with - or _ (for example oddly-peaceful).")
    return tag


def normalize_tags(tags: Any, keep: Any = ()) -> list[str]:
    """Tags as stored: each checked by normalize_tag, one per spelling without case, sorted.

    A tag in ``keep`` (what the reflection already carries) passes as it is, so a reflection from
    an older journal with a tag such as "oddly peaceful" can still be edited and saved.
    """
    kept = {str(t).casefold(): str(t) for t in keep or ()}
    out: dict[str, str] = {}
    for raw in tags:
        text = str(raw).strip()
        if not text:
            continue
        tag = kept.get(text.casefold()) or normalize_tag(text)
        out.setdefault(tag.casefold(), tag)
    return sorted(out.values(), key=str.casefold)


def check_reflection_date(when: datetime, *, now: datetime | None = None) -> datetime:
    """A reflection's date as stored (UTC, to the millisecond), or one sentence why it cannot be.

    The spec asks for an ISO 8601 timestamp; Mirror adds: with a time zone, not before 1900-01-01
    (older is a typo), and not after now plus five minutes (two devices' clocks may differ a little;
    a day in the future is a clock or a typo, never a memory).
    """
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise _err("created_at", "with a time zone", "A reflection's date needs a time zone; give it as local time.")
    if when.date() < EARLIEST_DATE:
        raise _err("created_at", "from 1900", f"{when.date().isoformat()} is before 1900; check the year.")
    current = now or utc_now()
    if when > current + FUTURE_SLACK:
        raise _err("created_at", "not in the future",
                   f"{when.astimezone().strftime('%Y-%m-%d %H:%M')} is in the future (it is now "
                   f"{current.astimezone().strftime('%Y-%m-%d %H:%M')}); a reflection can be dated today or earlier.")
    when = when.astimezone(UTC)
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def parse_clock(text: str) -> time:
    """A reminder time "HH:MM" (24-hour); "25:61" and the like are refused in one sentence."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(text))
    if match is None or not (0 <= int(match.group(1)) <= 23 and 0 <= int(match.group(2)) <= 59):
        raise _err("reminder.time", "HH:MM", f"{text!r} is not a time of day; give hours 00-23 and minutes "
                   "00-59, like 21:30.")
    return time(int(match.group(1)), int(match.group(2)))


# -- time zones ------------------------------------------------------------------------------------
_SYSTEM_ZONE: tuple[float, str, str] | None = None  # (when looked up, $TZ then, the name)
_SYSTEM_ZONE_TTL = 60.0


def system_zone_name() -> str:
    """The IANA name of this machine's time zone: $TZ, /etc/localtime, /etc/timezone, tzlocal; else "UTC".

    Looked up at most once a minute (or when $TZ changes): lists convert every row's date, and a
    laptop that travels is noticed soon enough.
    """
    global _SYSTEM_ZONE
    env = os.environ.get("TZ", "")
    cached = _SYSTEM_ZONE
    if cached is not None and cached[1] == env and _monotonic() - cached[0] < _SYSTEM_ZONE_TTL:
        return cached[2]
    name = _lookup_system_zone()
    _SYSTEM_ZONE = (_monotonic(), env, name)
    return name


def _lookup_system_zone() -> str:
    candidates: list[str] = []
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        candidates.append(env)
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo" + os.sep in target:
            candidates.append(target.split("zoneinfo" + os.sep, 1)[1])
    except OSError:
        pass
    try:
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    except OSError:
        pass
    try:  # Windows and unusual systems; optional, never required
        import tzlocal  # type: ignore[import-not-found, unused-ignore]

        candidates.append(str(tzlocal.get_localzone_name()))
    except Exception:  # noqa: BLE001 - absent or confused: the next answer is UTC
        pass
    for name in candidates:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return "UTC"


def zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo for a setting (None: the system's); an unknown name is refused in one sentence."""
    key = name or system_zone_name()
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise _err("time_zone", "IANA name", f"{key!r} is not a time zone Mirror knows; use a name like "
                   "Europe/Berlin or America/New_York.") from None


# -- data --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReminderSettings:
    """A daily reminder: at ``time`` ("HH:MM", local) on ``weekdays`` (0 = Monday … 6 = Sunday)."""

    enabled: bool = False
    time: str = "21:00"
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)


@dataclass(frozen=True)
class WritingSettings:
    """Per journal: the time zone days are counted in, when a day starts, and the reminder."""

    time_zone: str | None = None  # IANA name; None = the system's zone at the time of asking
    day_start_hour: int = 0  # 0-6: entries before this hour count for the day before
    reminder: ReminderSettings = field(default_factory=ReminderSettings)

    def to_json(self) -> dict[str, Any]:
        return {"time_zone": self.time_zone, "day_start_hour": self.day_start_hour,
                "reminder": {"enabled": self.reminder.enabled, "time": self.reminder.time,
                             "weekdays": list(self.reminder.weekdays)}}


@dataclass(frozen=True)
class MonthCounts:
    """One calendar month for one scope: reflections and words per local day (days without writing absent)."""

    year: int
    month: int
    counts: dict[date, int]
    words: dict[date, int]
    today: date  # the person's current local day (day start applied)


@dataclass(frozen=True)
class OnThisDayEntry:
    """A reflection written on this month and day in an earlier year."""

    reflection: m.Reflection
    day: date  # its local day
    years_ago: int


@dataclass(frozen=True)
class TagCount:
    tag: str  # lower case: tags compare without case, as search does
    count: int


@dataclass(frozen=True)
class WritingStats:
    """Streaks and statistics for one scope (local days; see the module docstring).

    ``current_streak`` counts consecutive days with writing ending today, or ending yesterday when
    nothing is written yet today (a streak is not broken before the day is over). Averages are over
    the days / ISO weeks / months that have writing.
    """

    today: date
    reflections: int
    words: int
    days_written: int
    current_streak: int
    longest_streak: int
    longest_streak_end: date | None
    first_day: date | None
    last_day: date | None
    written_today: bool
    words_per_day: float
    words_per_week: float
    words_per_month: float
    by_day: dict[date, int]  # reflections per local day, the last HEAT_DAYS days (the year's heat map)
    words_by_day: dict[date, int]  # the same days
    by_month: dict[str, int]  # "YYYY-MM" -> reflections
    words_by_month: dict[str, int]
    words_by_week: dict[str, int]  # ISO week "YYYY-Www" -> words
    by_hour: list[int]  # 24 local hours -> reflections
    by_weekday: list[int]  # Monday..Sunday -> reflections
    top_tags: list[TagCount]

    def to_json(self) -> dict[str, Any]:
        """What `mirror stats --json` prints (issue 16's keys first)."""
        return {
            "current_streak": self.current_streak,
            "longest_streak": self.longest_streak,
            "reflections": self.reflections,
            "words": self.words,
            "by_month": dict(self.by_month),
            "top_tags": [{"tag": t.tag, "count": t.count} for t in self.top_tags],
            "today": self.today.isoformat(),
            "written_today": self.written_today,
            "days_written": self.days_written,
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "words_per_day": round(self.words_per_day, 1),
            "words_per_week": round(self.words_per_week, 1),
            "words_per_month": round(self.words_per_month, 1),
            "words_by_month": dict(self.words_by_month),
            "by_hour": list(self.by_hour),
            "by_weekday": list(self.by_weekday),
        }


@dataclass(frozen=True)
class ReminderDecision:
    """Whether the reminder should show now, and why not (for logs and tests)."""

    due: bool
    day: date
    reason: str  # "due" | "disabled" | "not_today" | "too_early" | "wrote_today" | "already_fired"


@dataclass(frozen=True)
class Scope:
    """Whose writing: one identity, Anonymous only, or everyone (both None/False)."""

    identity_id: str | None = None
    anonymous_only: bool = False

    @property
    def key(self) -> str | None:
        """The summaries' identity key: '' for Anonymous, None for everyone."""
        return "" if self.anonymous_only else self.identity_id


EVERYONE = Scope()


# -- the service -------------------------------------------------------------------------------------
class WritingService:
    """Calendar, On This Day, statistics, tags, backdating and reminders over one storage.

    Every method runs on the caller's thread (the window: its database executor; reads on a reader).
    ``now`` parameters exist for tests and for a clock that jumps; they default to the real clock.
    """

    def __init__(self, storage: MirrorStorage) -> None:
        self.storage = storage
        self.store: Any = storage.writing  # type: ignore[attr-defined]

    # -- settings ------------------------------------------------------------------------
    def settings(self) -> WritingSettings:
        raw = self.store.get_setting("writing") or {}
        rem = raw.get("reminder") or {}
        try:
            return WritingSettings(
                time_zone=raw.get("time_zone") or None,
                day_start_hour=int(raw.get("day_start_hour") or 0),
                reminder=ReminderSettings(bool(rem.get("enabled", False)), str(rem.get("time") or "21:00"),
                                          tuple(int(d) for d in rem.get("weekdays", range(7)))))
        except (TypeError, ValueError):
            return WritingSettings()

    def validate_settings(self, s: WritingSettings) -> WritingSettings:
        """The settings as they would be stored, or one sentence about the first bad value."""
        zone(s.time_zone)
        if isinstance(s.day_start_hour, bool) or not isinstance(s.day_start_hour, int) or not 0 <= s.day_start_hour <= 6:
            raise _err("day_start_hour", "0-6", "A day can start at an hour from 0 (midnight) to 6; "
                       f"{s.day_start_hour!r} is outside that.")
        clock = parse_clock(s.reminder.time)
        days = tuple(sorted(set(s.reminder.weekdays)))
        if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            raise _err("reminder.weekdays", "0-6", "Reminder days are 0 (Monday) to 6 (Sunday).")
        if s.reminder.enabled and not days:
            raise _err("reminder.weekdays", "at least one", "A reminder needs at least one day of the week; "
                       "choose a day or turn the reminder off.")
        return replace(s, reminder=replace(s.reminder, time=clock.strftime("%H:%M"), weekdays=days))

    def save_settings(self, s: WritingSettings) -> WritingSettings:
        """Validate and store; a new zone or day start rebuilds the day summaries (one pass)."""
        s = self.validate_settings(s)
        with self.storage.transaction():
            self.store.set_setting("writing", s.to_json())
            self._ensure_summary(s)
        return s

    # -- local days ----------------------------------------------------------------------
    def tz(self) -> tzinfo:
        return zone(self.settings().time_zone)

    def local_day(self, when: datetime, settings: WritingSettings | None = None) -> date:
        """The person's day for an instant: local time, minus the day start hour."""
        s = settings or self.settings()
        return (when.astimezone(zone(s.time_zone)) - timedelta(hours=s.day_start_hour)).date()

    def today(self, now: datetime | None = None) -> date:
        return self.local_day(now or utc_now())

    def day_bounds(self, day: date, settings: WritingSettings | None = None) -> tuple[datetime, datetime]:
        """[start, end) in UTC of a local day (its day start hour to the next day's)."""
        s = settings or self.settings()
        tz = zone(s.time_zone)
        start = datetime.combine(day, time(s.day_start_hour), tz)
        end = datetime.combine(day + timedelta(days=1), time(s.day_start_hour), tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def _summary_key(self, s: WritingSettings) -> dict[str, Any]:
        name = s.time_zone or system_zone_name()
        return {"zone": "UTC" if name in _UTC_NAMES else name, "day_start_hour": s.day_start_hour}

    def summary_current(self, s: WritingSettings | None = None) -> bool:
        """Whether the day summaries count in the zone and day start in force now."""
        s = s or self.settings()
        return bool(self.store.get_setting("summary") == self._summary_key(s))

    def _ensure_summary(self, s: WritingSettings | None = None) -> bool:
        """Make the summaries count in the current zone and day start; True when they do (or now do).

        A read-only connection (the window's reader) cannot rebuild: it answers False and the
        callers count from the reflections directly, correct but slower, until a writer has
        called ``prepare()``.
        """
        s = s or self.settings()
        wanted = self._summary_key(s)
        if self.store.get_setting("summary") == wanted:
            return True
        if getattr(self.storage, "reader", False) or getattr(self.storage, "readonly", False):
            return False
        with self.storage.transaction():
            self.store.rebuild(zone_periods(zone(wanted["zone"]), s.day_start_hour))
            self.store.set_setting("summary", wanted)
        return True

    def prepare(self) -> bool:
        """Bring the summaries to the person's zone (write lane, e.g. at start-up); True if it rebuilt."""
        if self.summary_current():
            return False
        return self._ensure_summary()

    def _day_rows(self, scope: Scope, since: date | None, until: date | None,
                  s: WritingSettings) -> list[tuple[date, int, int]]:
        if self._ensure_summary(s):
            return list(self.store.days(scope.key, since, until))
        lo = self.day_bounds(since, s)[0] if since is not None else None
        hi = self.day_bounds(until, s)[1] if until is not None else None
        per: dict[date, list[int]] = {}
        tz, shift = zone(s.time_zone), timedelta(hours=s.day_start_hour)  # once: the system zone reads files
        for when, words in self.store.timestamps(scope.identity_id, scope.anonymous_only, lo, hi):
            cell = per.setdefault((when.astimezone(tz) - shift).date(), [0, 0])
            cell[0] += 1
            cell[1] += words
        return [(d, n, w) for d, (n, w) in sorted(per.items())]

    # -- calendar ------------------------------------------------------------------------
    def month_counts(self, year: int, month: int, scope: Scope = EVERYONE, *,
                     now: datetime | None = None) -> MonthCounts:
        """Reflections per local day of one month: one aggregate query over the day summary."""
        if not (1 <= month <= 12 and 1 <= year <= 9999):
            raise _err("month", "a calendar month", f"{year}-{month:02d} is not a month of the calendar.")
        s = self.settings()
        first = date(year, month, 1)
        last = date(year, month, monthrange(year, month)[1])
        rows = self._day_rows(scope, first, last, s)
        return MonthCounts(year, month, {d: n for d, n, _ in rows}, {d: w for d, _, w in rows},
                           self.local_day(now or utc_now(), s))

    def day_reflections(self, day: date, scope: Scope = EVERYONE) -> list[m.Reflection]:
        """The reflections of one local day, oldest first (the calendar opens a day with these)."""
        found = self.store.reflections_in([self.day_bounds(day)], scope.identity_id, scope.anonymous_only)
        return list(reversed(found))

    def wrote_on(self, day: date | None = None, scope: Scope = EVERYONE) -> bool:
        """Whether anything is written on that local day (default: today)."""
        s = self.settings()
        d = day or self.local_day(utc_now(), s)
        return bool(self._day_rows(scope, d, d, s))

    # -- On This Day ---------------------------------------------------------------------
    def on_this_day(self, day: date | None = None, scope: Scope = EVERYONE, *, limit: int = 50,
                    now: datetime | None = None) -> list[OnThisDayEntry]:
        """Reflections from the same month and day in earlier years, most recent year first.

        On 28 February of a year without a 29th, entries of earlier 29ths are included.
        """
        s = self.settings()
        d = day or self.local_day(now or utc_now(), s)
        wanted = [d.strftime("%m-%d")]
        if d.month == 2 and d.day == 28 and monthrange(d.year, 2)[1] == 28:
            wanted.append("02-29")
        first_of_year = date(d.year, 1, 1)
        if self._ensure_summary(s):
            days = self.store.days_on(wanted, first_of_year, scope.key)
        else:
            days = sorted({dd for dd, _, _ in self._day_rows(scope, None, first_of_year - timedelta(days=1), s)
                           if dd.strftime("%m-%d") in wanted}, reverse=True)
        if not days:
            return []
        found = self.store.reflections_in([self.day_bounds(x, s) for x in days], scope.identity_id,
                                          scope.anonymous_only, limit=limit)
        out = []
        tz, shift = zone(s.time_zone), timedelta(hours=s.day_start_hour)
        for r in found:
            rd = (r.created_at.astimezone(tz) - shift).date()
            out.append(OnThisDayEntry(r, rd, d.year - rd.year))
        return out

    # -- statistics ----------------------------------------------------------------------
    def stats(self, scope: Scope = EVERYONE, *, top: int = 10, now: datetime | None = None) -> WritingStats:
        """Streaks and statistics (see WritingStats); ``by_day`` and ``words_by_day`` cover the last
        HEAT_DAYS days (the year's heat map), everything else the whole journal.

        One read of the day summary (~5,000 rows at 100,000 reflections) and one pass over it in
        Python: measured faster than the same sums, weeks and runs of days in SQL window functions.
        A stale summary on a reader gives the same rows counted from the reflections (slower).
        """
        s = self.settings()
        today = self.local_day(now or utc_now(), s)
        heat_from = today - timedelta(days=HEAT_DAYS - 1)
        return self._stats_from_rows(scope, self._day_rows(scope, None, None, s), today, heat_from, top, s)

    def _assemble(self, scope: Scope, s: WritingSettings, today: date, top: int, *, reflections: int, words: int,
                  days: int, current: int, longest: int, longest_end: date | None, first: date | None,
                  last: date | None, by_day: dict[date, int], words_by_day: dict[date, int], by_month: dict[str, int],
                  words_by_month: dict[str, int], words_by_week: dict[str, int], by_weekday: list[int]) -> WritingStats:
        if self._ensure_summary(s):
            hours = self.store.hours(scope.key)
        else:
            hours = [0] * 24
            tz = zone(s.time_zone)
            for when, _ in self.store.timestamps(scope.identity_id, scope.anonymous_only):
                hours[when.astimezone(tz).hour] += 1
        return WritingStats(
            today=today, reflections=reflections, words=words, days_written=days,
            current_streak=current, longest_streak=longest, longest_streak_end=longest_end,
            first_day=first, last_day=last, written_today=today in by_day,
            words_per_day=words / days if days else 0.0,
            words_per_week=words / len(words_by_week) if words_by_week else 0.0,
            words_per_month=words / len(words_by_month) if words_by_month else 0.0,
            by_day=by_day, words_by_day=words_by_day, by_month=by_month, words_by_month=words_by_month,
            words_by_week=words_by_week, by_hour=hours, by_weekday=by_weekday,
            top_tags=self.tag_counts(scope)[:top] if top else [])

    def _stats_from_rows(self, scope: Scope, rows: list[tuple[date, int, int]], today: date, heat_from: date,
                         top: int, s: WritingSettings) -> WritingStats:
        """The statistics from (day, reflections, words) rows, oldest first, in one pass."""
        months: dict[int, list[int]] = {}
        weeks: dict[int, int] = {}
        by_weekday = [0] * 7
        longest = run = 0
        longest_end_ord = prev = -10
        for d, n, w in rows:
            o = d.toordinal()
            mk = d.year * 12 + d.month - 1
            cell = months.setdefault(mk, [0, 0])
            cell[0] += n
            cell[1] += w
            wd = (o - 1) % 7  # ordinal 1 (0001-01-01) was a Monday
            weeks[o - wd] = weeks.get(o - wd, 0) + w
            by_weekday[wd] += n
            run = run + 1 if o - prev == 1 else 1
            if run > longest:
                longest, longest_end_ord = run, o
            prev = o
        written = {d for d, _, _ in rows}
        current = 0
        cursor = today if today in written else today - timedelta(days=1)
        while cursor in written:
            current += 1
            cursor -= timedelta(days=1)
        words_by_week = {}
        for monday, w in weeks.items():
            iso = date.fromordinal(monday).isocalendar()
            words_by_week[f"{iso[0]:04d}-W{iso[1]:02d}"] = w
        recent = [r for r in rows if heat_from <= r[0]]
        return self._assemble(
            scope, s, today, top, reflections=sum(n for _, n, _ in rows), words=sum(w for _, _, w in rows),
            days=len(rows), current=current, longest=longest,
            longest_end=date.fromordinal(longest_end_ord) if longest else None,
            first=rows[0][0] if rows else None, last=rows[-1][0] if rows else None,
            by_day={d: n for d, n, _ in recent}, words_by_day={d: w for d, _, w in recent},
            by_month={f"{k // 12:04d}-{k % 12 + 1:02d}": v[0] for k, v in sorted(months.items())},
            words_by_month={f"{k // 12:04d}-{k % 12 + 1:02d}": v[1] for k, v in sorted(months.items())},
            words_by_week=words_by_week, by_weekday=by_weekday)

    # -- tags ----------------------------------------------------------------------------
    def tag_counts(self, scope: Scope = EVERYONE) -> list[TagCount]:
        """Every tag with its number of reflections, most used first (then by name)."""
        return [TagCount(t, n) for t, n in self.store.tags(scope.key)]

    def rename_tag(self, old: str, new: str) -> int:
        """Rename a tag on every reflection (any identity) in one transaction; merging when ``new``
        exists already (a reflection carrying both keeps one). Returns how many reflections changed."""
        return self.merge_tags([old], new)

    def merge_tags(self, sources: list[str], into: str) -> int:
        """Merge several tags into one, in one transaction; returns how many reflections changed."""
        target = normalize_tag(into)
        # The old names may be anything a journal holds (older ones have "two words"); only trim.
        olds = {str(t).strip().removeprefix("#").strip().casefold() for t in sources} - {""}
        if not olds:
            raise _err("tag", "cannot be empty", "Name the tag to rename; it cannot be empty.")
        changed = 0
        with self.storage.transaction():
            for rid in self.store.tagged_ids(sorted(olds)):
                r = self.storage.reflections.get(rid)
                tags = [t for t in r.tags if t.casefold() not in olds]
                if not any(t.casefold() == target.casefold() for t in tags):
                    tags.append(target)
                tags = sorted(dict.fromkeys(tags), key=str.casefold)
                if tags != r.tags:
                    self.storage.reflections.update(replace(r, metadata={**(r.metadata or {}), "tags": tags}))
                    changed += 1
        return changed

    # -- backdating ----------------------------------------------------------------------
    def check_date(self, when: datetime, *, now: datetime | None = None) -> datetime:
        """A reflection's date as stored (UTC, milliseconds) or one sentence why not (see check_reflection_date)."""
        return check_reflection_date(when, now=now)

    def parse_date(self, text: str, *, now: datetime | None = None) -> datetime:
        """"YYYY-MM-DD" or "YYYY-MM-DD HH:MM" in the person's zone, checked by check_date.

        A date alone means noon of that local day (today: now, so it is not "in the future").
        """
        raw = str(text).strip()
        match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2}))?", raw)
        if match is None:
            raise _err("created_at", "YYYY-MM-DD[ HH:MM]", f"{text!r} is not a date Mirror reads; write it as "
                       "YYYY-MM-DD or \"YYYY-MM-DD HH:MM\", like 2024-03-15 or \"2024-03-15 21:30\".")
        y, mo, d = int(match.group(1)), int(match.group(2)), int(match.group(3))
        try:
            day = date(y, mo, d)
        except ValueError:
            raise _err("created_at", "a calendar date", f"{raw} is not a day of the calendar; check the month and day.") from None
        s = self.settings()
        tz = zone(s.time_zone)
        current = now or utc_now()
        if match.group(4) is not None:
            clock = parse_clock(f"{match.group(4)}:{match.group(5)}")
            when = datetime.combine(day, clock, tz)
        elif day == self.local_day(current, s):
            when = current
        else:
            when = datetime.combine(day, time(12), tz)
        return check_reflection_date(when, now=current)

    def set_date(self, reflection_id: str, when: datetime, *, now: datetime | None = None) -> m.Reflection:
        """Backdate (or re-date) an existing reflection; keeps its content, identity and tags."""
        stamp = check_reflection_date(when, now=now)
        with self.storage.transaction():
            r = self.storage.reflections.get(reflection_id)
            return self.storage.reflections.update(replace(r, created_at=stamp))

    # -- reminders -----------------------------------------------------------------------
    def _fired_days(self) -> list[str]:
        raw = self.store.get_setting("reminder_fired")
        return [str(d) for d in raw] if isinstance(raw, list) else []

    def reminder_due(self, scope: Scope = EVERYONE, *, now: datetime | None = None) -> ReminderDecision:
        """Should the reminder show now? Not when disabled, on an unchosen weekday, before its time,
        when something is written today, or when it already fired today (also after the clock was set back)."""
        s = self.settings()
        current = now or utc_now()
        tz = zone(s.time_zone)
        local = current.astimezone(tz)
        # The reminder's day is the calendar day of its local time (a 21:00 reminder belongs to that date).
        day = local.date()
        r = s.reminder
        if not r.enabled:
            return ReminderDecision(False, day, "disabled")
        if day.weekday() not in r.weekdays:
            return ReminderDecision(False, day, "not_today")
        try:
            at = parse_clock(r.time)
        except ValidationError:
            return ReminderDecision(False, day, "disabled")
        if local.time() < at:
            return ReminderDecision(False, day, "too_early")
        if day.isoformat() in self._fired_days():
            return ReminderDecision(False, day, "already_fired")
        if self.wrote_on(self.local_day(current, s), scope):
            return ReminderDecision(False, day, "wrote_today")
        return ReminderDecision(True, day, "due")

    def mark_reminder_fired(self, day: date) -> None:
        """Record that the reminder showed for ``day`` (call when it is shown). The last
        REMINDER_HISTORY_DAYS days are kept, whatever order a jumping clock gives them."""
        days = [d for d in self._fired_days() if d != day.isoformat()] + [day.isoformat()]
        self.store.set_setting("reminder_fired", sorted(days)[-REMINDER_HISTORY_DAYS:])


def zone_periods(tz: tzinfo, day_start_hour: int, first_year: int = 1900,
                 last_year: int = 2100) -> list[tuple[datetime | None, int, int]]:
    """The UTC offset periods of ``tz`` as (start or None, hour shift, day shift) in minutes.

    The day shift is the hour shift less the day start. Transitions are found by a weekly scan
    of first_year..last_year, each narrowed to the minute (zones change at most twice a year).
    """
    def offset(at: datetime) -> int:
        delta = at.astimezone(tz).utcoffset() or timedelta(0)
        return int(delta.total_seconds() // 60)

    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year, 1, 1, tzinfo=UTC)
    step = timedelta(days=7)
    current = offset(start)
    periods: list[tuple[datetime | None, int, int]] = [(None, current, current - 60 * day_start_hour)]
    at = start
    while at < end:
        nxt = at + step
        off = offset(nxt)
        if off != current:
            lo, hi = at, nxt  # offset(lo) == current, offset(hi) != current
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= lo:
                    break
                if offset(mid) == current:
                    lo = mid
                else:
                    hi = mid
            current = offset(hi)
            periods.append((hi, current, current - 60 * day_start_hour))
        at = nxt
    return periods


def month_grid(year: int, month: int) -> list[date]:
    """The days of a month (1..last), for views that draw a grid."""
    return [date(year, month, d) for d in range(1, monthrange(year, month)[1] + 1)]
