"""Calendars from iCalendar data: a local .ics file (``ics_file``) or one served over HTTP(S) (``ics_url``).

Parsed with ``icalendar``; recurrences expanded with ``recurring-ical-events`` inside the sync
window only (look-back days before today to look-ahead days after), and each series at most
``MAX_OCCURRENCES_PER_EVENT`` times, so a hostile RRULE (every second, forever) is refused in one
sentence instead of filling memory. Times keep their zone: VTIMEZONE definitions and IANA names are
resolved by icalendar; the stored instant is UTC and the original TZID stays in the item's extra.

Incremental: a file is re-read only when its size, mtime or SHA-256 changed; a URL is fetched with
``If-None-Match`` / ``If-Modified-Since`` and a 304 answer means nothing changed. Because the window
moves with the date, the cursor also records the window: on a new day the source is read again.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import urllib.error
import urllib.request
import warnings
from base64 import b64encode
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mirror_desktop.integrations.base import (
    AuthError,
    Connector,
    FetchContext,
    FetchResult,
    Item,
    SourceError,
    check_deadline,
    register,
)

MAX_ICS_BYTES = 50 * 1024 * 1024
MAX_OCCURRENCES_PER_EVENT = 10_000
MAX_EVENTS = 200_000
DEFAULT_LOOK_BACK_DAYS = 7
DEFAULT_LOOK_AHEAD_DAYS = 14
MAX_LOOK_DAYS = 36_500
MAX_TEXT = 4000  # description kept with an event, characters
_CHUNK = 64 * 1024


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB"


def window_for(config: Mapping[str, Any], now: datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC: whole days from ``look_back_days`` before today to ``look_ahead_days`` after."""
    back = int(config.get("look_back_days", DEFAULT_LOOK_BACK_DAYS))
    ahead = int(config.get("look_ahead_days", DEFAULT_LOOK_AHEAD_DAYS))
    today = now.astimezone(UTC).date()
    start = datetime.combine(today - timedelta(days=back), time(), UTC)
    end = datetime.combine(today + timedelta(days=ahead + 1), time(), UTC)
    return start, end


def _window_key(window: tuple[datetime, datetime]) -> str:
    return f"{window[0].date().isoformat()}/{window[1].date().isoformat()}"


def validate_window(config: Mapping[str, Any]) -> list[str]:
    problems = []
    for key in ("look_back_days", "look_ahead_days"):
        if key in config:
            value = config[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LOOK_DAYS:
                problems.append(f"{key} must be a whole number of days from 0 to {MAX_LOOK_DAYS} (got {value!r}).")
    return problems


# -- parsing ---------------------------------------------------------------------------------

def _instant(value: Any) -> tuple[datetime, bool, str | None]:
    """(UTC instant, all-day?, original zone name) of a DTSTART/DTEND value."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            # A floating time means "wall-clock time wherever you are": this machine's zone.
            return value.astimezone().astimezone(UTC), False, "floating"
        zone = getattr(value.tzinfo, "key", None) or value.tzname()
        return value.astimezone(UTC), False, zone
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC), True, None
    raise SourceError(f"an event has a start that is not a date or time ({value!r})")


def _text(component: Any, name: str) -> str | None:
    value = component.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text[:MAX_TEXT] if text else None


def _occurrence_key(start: datetime, all_day: bool) -> str:
    return start.strftime("%Y%m%d") if all_day else start.strftime("%Y%m%dT%H%M%SZ")


def parse_calendar(data: bytes, name: str) -> Any:
    """An icalendar Calendar, or a SourceError that says what is wrong with the file."""
    import icalendar

    try:
        cal = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError, KeyError, IndexError … on broken input
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise SourceError(f"{name} is not a valid iCalendar file ({detail}); repair or re-export it, then sync again.") from None
    for comp in cal.walk():
        errors = getattr(comp, "errors", None)
        if errors:
            prop, detail = errors[0] if isinstance(errors[0], tuple) else ("?", errors[0])
            raise SourceError(f"{name} has a broken {prop} in a {comp.name} ({str(detail)[:100]}); "
                              "repair or re-export the calendar, then sync again.")
    for comp in cal.walk("VEVENT"):
        if comp.get("DTSTART") is None:
            uid = str(comp.get("UID", "without a UID"))
            raise SourceError(f"{name} has an event ({uid[:60]}) without a start time (DTSTART); "
                              "repair or re-export the calendar, then sync again.")
    return cal


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _never_matches(rule: Any) -> bool:
    """True for BYMONTH/BYMONTHDAY combinations no calendar date has (Feb 30, Apr 31 …)."""
    try:
        months = [int(m) for m in rule.get("BYMONTH") or range(1, 13)]
        days = [int(d) for d in rule.get("BYMONTHDAY") or []]
    except (TypeError, ValueError):
        return False
    if not days:
        return False
    return not any(1 <= m <= 12 and (0 < d <= _MONTH_DAYS[m - 1] or -_MONTH_DAYS[m - 1] <= d < 0)
                   for m in months for d in days)


def _check_rule_bounds(cal: Any, window: tuple[datetime, datetime], name: str) -> None:
    """Refuse a series that repeats more than MAX_OCCURRENCES_PER_EVENT times inside the window.

    recurring-ical-events asks dateutil for a list of every start in the span, so a rule like
    FREQ=SECONDLY with no end would be expanded in full (a billion datetimes) before anything else
    could stop it. Walking the rule lazily with ``xafter`` costs at most the bound per rule.
    """
    from dateutil.rrule import rrulestr

    start, end = window
    for comp in cal.walk("VEVENT"):
        for rule in comp.get("RRULE") if isinstance(comp.get("RRULE"), list) else [comp.get("RRULE")]:
            if rule is None:
                continue
            freq = str((rule.get("FREQ") or [""])[0]).upper()
            filters = any(rule.get(k) for k in ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYDAY", "BYSETPOS"))
            if freq == "SECONDLY" or (freq == "MINUTELY" and filters):
                # dateutil walks such rules second by second (or minute by minute) and cannot be
                # interrupted between matches: a rule that never matches would run for minutes.
                raise SourceError(f"{name} has an event that repeats every {freq[:-2].lower()}, which Mirror does not "
                                  "expand; fix that event, then sync again.")
            if _never_matches(rule):
                # dateutil would walk such a rule day by day up to the year 9999 looking for a match.
                raise SourceError(f"{name} has an event whose repeat rule can never happen (such as February 30); "
                                  "fix that event, then sync again.")
            first = comp["DTSTART"].dt
            if not isinstance(first, datetime):
                first = datetime.combine(first, time())
            aware = first.tzinfo is not None
            lo = start if aware else start.replace(tzinfo=None)
            hi = end if aware else end.replace(tzinfo=None)
            try:
                text = rule.to_ical().decode()
                if not aware:
                    text = text.replace("Z;", ";").rstrip("Z") if "UNTIL=" in text else text
                parsed: Any = rrulestr(text, dtstart=first, ignoretz=not aware)
                with warnings.catch_warnings():
                    # Cut the rule at the window's end (dateutil warns when COUNT is set too): a rule
                    # that never matches would otherwise be walked to the year 9999.
                    warnings.simplefilter("ignore")
                    parsed = parsed.replace(until=hi)
                for n, when in enumerate(parsed.xafter(lo, inc=True), 1):
                    if when >= hi:
                        break
                    if n > MAX_OCCURRENCES_PER_EVENT:
                        raise SourceError(
                            f"{name} repeats one event more than {MAX_OCCURRENCES_PER_EVENT:,} times inside the "
                            "sync window (a rule without a sensible end); fix that event or shorten the look-back, "
                            "then sync again.")
            except SourceError:
                raise
            except Exception:
                continue  # a rule dateutil cannot read here: the expansion below reports it


def expand_events(cal: Any, window: tuple[datetime, datetime], ctx: FetchContext, name: str,
                  id_prefix: str = "") -> Iterator[Item]:
    """Every occurrence of every VEVENT inside ``window``, each series bounded."""
    import recurring_ical_events

    recurring_uids = {str(c.get("UID")) for c in cal.walk("VEVENT")
                      if c.get("RRULE") is not None or c.get("RDATE") is not None or c.get("RECURRENCE-ID") is not None}
    try:
        query = recurring_ical_events.of(cal, components=("VEVENT",))
    except Exception as exc:
        raise SourceError(f"{name} cannot be read as a calendar ({str(exc)[:120]}); repair or re-export it.") from None
    _check_rule_bounds(cal, window, name)
    start, end = window
    emitted = 0
    for series in query.series:
        ctx.check()
        try:
            occurrences = itertools.islice(series.between(start, end), MAX_OCCURRENCES_PER_EVENT + 1)
            for n, occ in enumerate(occurrences, 1):
                if n > MAX_OCCURRENCES_PER_EVENT:
                    raise SourceError(
                        f"{name} repeats one event more than {MAX_OCCURRENCES_PER_EVENT:,} times inside the "
                        "sync window (a rule without a sensible end); fix that event or shorten the look-back, then sync again.")
                if n % 500 == 0:
                    check_deadline(ctx, f"Reading {name}")
                    ctx.check()
                emitted += 1
                if emitted > MAX_EVENTS:
                    raise SourceError(f"{name} holds more than {MAX_EVENTS:,} events inside the sync window; "
                                      "shorten the look-back and sync again.")
                yield _item(occ.as_component(False), recurring_uids, id_prefix)
        except SourceError:
            raise
        except Exception as exc:  # a broken rule or date inside one series
            detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise SourceError(f"{name} has an event whose dates or repeat rule cannot be read ({detail}); "
                              "repair or re-export the calendar, then sync again.") from None


def _item(comp: Any, recurring_uids: set[str], id_prefix: str) -> Item:
    dtstart = comp.get("DTSTART")
    starts_at, all_day, zone = _instant(dtstart.dt)
    dtend = comp.get("DTEND")
    if dtend is not None:
        ends_at, _, _ = _instant(dtend.dt)
    elif comp.get("DURATION") is not None:
        ends_at = starts_at + comp.get("DURATION").dt
    else:
        ends_at = starts_at + (timedelta(days=1) if all_day else timedelta())
    ends_at = max(ends_at, starts_at)
    title = _text(comp, "SUMMARY")
    location = _text(comp, "LOCATION")
    description = _text(comp, "DESCRIPTION")
    status = _text(comp, "STATUS")
    uid = _text(comp, "UID")
    if uid is None:
        # No UID (against RFC 5545, but it happens): the event's own fields make a stable id.
        uid = "nouid-" + hashlib.sha256(f"{title}|{starts_at.isoformat()}|{location}".encode()).hexdigest()[:24]
    ext = uid if uid not in recurring_uids else f"{uid}/{_occurrence_key(starts_at, all_day)}"
    ext = (id_prefix + ext)[:1024]
    extra: dict[str, Any] = {k: v for k, v in (("location", location), ("description", description),
                                                 ("status", status), ("tzid", zone)) if v}
    version = hashlib.sha256("\x1f".join(str(x) for x in (title, starts_at.isoformat(), ends_at.isoformat(), all_day,
                                                          location, description, status, zone)).encode()).hexdigest()[:32]
    return Item(external_id=ext, kind="event", version=version, title=title, starts_at=starts_at, ends_at=ends_at,
                all_day=all_day, extra=extra)


def items_from_ics(data: bytes, name: str, window: tuple[datetime, datetime], ctx: FetchContext) -> list[Item]:
    """Parse and expand a whole calendar (parsed eagerly: a broken file fails before anything is written)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{name} is not UTF-8 text (byte {exc.start} is not), as iCalendar requires; "
                          "re-export it as UTF-8, then sync again.") from None
    cal = parse_calendar(data, name)
    return list(expand_events(cal, window, ctx, name))


# -- ics_file ---------------------------------------------------------------------------------

class IcsFileConnector(Connector):
    integration_type = "calendar"
    provider = "ics_file"
    description = "an iCalendar (.ics) file on this computer"

    def validate(self, config: Mapping[str, Any]) -> list[str]:
        problems = []
        path = config.get("path")
        if not isinstance(path, str) or not path.strip():
            problems.append("An ics_file calendar needs --path, the .ics file to read.")
        return problems + validate_window(config)

    def fetch(self, config: Mapping[str, Any], secret: str | None, ctx: FetchContext) -> FetchResult:
        path = Path(str(config["path"])).expanduser()
        name = path.name
        window = window_for(config, ctx.now)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise SourceError(f"The calendar file {path} is not there any more; put it back or change the path.") from None
        except OSError as exc:
            raise SourceError(f"The calendar file {path} cannot be read ({exc.strerror}); check it and sync again.") from None
        if not path.is_file():
            raise SourceError(f"{path} is not a file; point the calendar at an .ics file.")
        if st.st_size > MAX_ICS_BYTES:
            raise SourceError(f"The calendar file {name} is {_mib(st.st_size)}, more than the {_mib(MAX_ICS_BYTES)} "
                              "Mirror reads; export a shorter range and sync again.")
        stat_key = f"{st.st_size}:{st.st_mtime_ns}"
        same_window = ctx.cursor.get("window") == _window_key(window)
        if same_window and ctx.cursor.get("stat") == stat_key:
            return FetchResult(not_modified=True, cursor=dict(ctx.cursor), window=window)
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_ICS_BYTES + 1)
        except OSError as exc:
            raise SourceError(f"The calendar file {path} cannot be read ({exc.strerror}); check it and sync again.") from None
        if len(data) > MAX_ICS_BYTES:
            raise SourceError(f"The calendar file {name} grew past the {_mib(MAX_ICS_BYTES)} Mirror reads; "
                              "export a shorter range and sync again.")
        digest = hashlib.sha256(data).hexdigest()
        cursor = {"window": _window_key(window), "stat": stat_key, "sha256": digest}
        if same_window and ctx.cursor.get("sha256") == digest:
            return FetchResult(not_modified=True, cursor=cursor, window=window)
        items = items_from_ics(data, name, window, ctx)
        return FetchResult(items=items, cursor=cursor, window=window, description=name)


# -- ics_url ----------------------------------------------------------------------------------

def http_get(url: str, *, headers: Mapping[str, str], ctx: FetchContext, max_bytes: int, what: str,
             username: str | None = None, secret: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET with a timeout on every read and on the whole transfer; (status, headers, body ≤ max_bytes)."""
    req = urllib.request.Request(url, headers={"User-Agent": "Mirror (integration)", **headers})
    if username is not None or secret is not None:
        token = b64encode(f"{username or ''}:{secret or ''}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        resp = urllib.request.urlopen(req, timeout=ctx.timeout)  # noqa: S310 - scheme checked in validate
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 304:
            return 304, {}, b""
        if exc.code in (401, 403):
            raise AuthError(f"{what} refused the credentials (HTTP {exc.code}); enter them again.") from None
        if exc.code == 404:
            raise SourceError(f"{what} answered that the calendar is not there (HTTP 404); check the address.") from None
        raise SourceError(f"{what} answered with an error (HTTP {exc.code}); it may be down, Mirror will try again later.") from None
    except TimeoutError:
        raise SourceError(f"{what} did not answer within {ctx.timeout:g} s; Mirror will try again later.") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            raise SourceError(f"{what} did not answer within {ctx.timeout:g} s; Mirror will try again later.") from None
        detail = getattr(reason, "strerror", None) or str(reason)
        raise SourceError(f"{what} cannot be reached ({detail}); check the address and the network.") from None
    except (OSError, ValueError) as exc:
        raise SourceError(f"{what} cannot be reached ({exc}); check the address and the network.") from None
    with resp:
        length = resp.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise SourceError(f"{what} offers {_mib(int(length))}, more than the {_mib(max_bytes)} Mirror reads; "
                              "publish a shorter range.")
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                check_deadline(ctx, what)
                ctx.check()
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise SourceError(f"{what} sent more than the {_mib(max_bytes)} Mirror reads; publish a shorter range.")
                chunks.append(chunk)
        except TimeoutError:
            raise SourceError(f"{what} stopped sending for {ctx.timeout:g} s; Mirror will try again later.") from None
        except OSError as exc:
            raise SourceError(f"{what} broke off the transfer ({exc}); Mirror will try again later.") from None
        return resp.status, {k.lower(): v for k, v in resp.headers.items()}, b"".join(chunks)


def safe_url(url: str) -> str:
    """The URL without user:password@ (for lists and messages)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=host, query="", fragment="").geturl()


class IcsUrlConnector(Connector):
    integration_type = "calendar"
    provider = "ics_url"
    description = "an iCalendar feed over HTTP(S), fetched with conditional GET"

    def validate(self, config: Mapping[str, Any]) -> list[str]:
        problems = []
        url = config.get("url")
        if not isinstance(url, str) or not url.strip():
            problems.append("An ics_url calendar needs --url, the http(s) address of the .ics feed.")
        else:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append(f"The calendar address must start with http:// or https:// (got {safe_url(url)!r}).")
            elif "@" in parts.netloc:
                problems.append("Put the user name in --username and the password in --password-file, not in the address.")
        return problems + validate_window(config)

    def location(self, config: Mapping[str, Any]) -> str:
        return safe_url(str(config.get("url", "")))

    def fetch(self, config: Mapping[str, Any], secret: str | None, ctx: FetchContext) -> FetchResult:
        url = str(config["url"])
        what = f"The calendar server at {urlsplit(url).netloc}"
        window = window_for(config, ctx.now)
        headers: dict[str, str] = {}
        same_window = ctx.cursor.get("window") == _window_key(window)
        if same_window:
            # Conditional GET only while the window is the one the stored items were expanded in.
            if ctx.cursor.get("etag"):
                headers["If-None-Match"] = str(ctx.cursor["etag"])
            if ctx.cursor.get("last_modified"):
                headers["If-Modified-Since"] = str(ctx.cursor["last_modified"])
        username = config.get("username")
        status, resp_headers, body = http_get(url, headers=headers, ctx=ctx, max_bytes=MAX_ICS_BYTES, what=what,
                                              username=username if isinstance(username, str) else None,
                                              secret=secret)
        if status == 304:
            return FetchResult(not_modified=True, cursor=dict(ctx.cursor), window=window)
        digest = hashlib.sha256(body).hexdigest()
        cursor = {"window": _window_key(window), "sha256": digest}
        if resp_headers.get("etag"):
            cursor["etag"] = resp_headers["etag"]
        if resp_headers.get("last-modified"):
            cursor["last_modified"] = resp_headers["last-modified"]
        if same_window and ctx.cursor.get("sha256") == digest:
            return FetchResult(not_modified=True, cursor=cursor, window=window)
        name = os.path.basename(urlsplit(url).path) or "the calendar feed"
        items = items_from_ics(body, name, window, ctx)
        return FetchResult(items=items, cursor=cursor, window=window, description=safe_url(url))


register(IcsFileConnector())
register(IcsUrlConnector())
