"""Calendars from any CalDAV server (Radicale, Nextcloud, Fastmail, iCloud …) through the ``caldav`` library.

The password (or app token) comes from the keychain or the person's password file, never from the
config. Incremental: each calendar's WebDAV sync token (RFC 6578) is kept in the cursor; when every
calendar reports no change and the window is the one the stored items were expanded in, nothing is
downloaded. Otherwise the events are fetched and expanded locally inside the window, bounded like
an .ics file (see ics.py). Refused credentials (HTTP 401/403) mean ``disconnected``; an unreachable,
failing or hanging server means ``error``, within the sync's timeout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
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
from mirror_desktop.integrations.ics import (
    MAX_EVENTS,
    _window_key,
    expand_events,
    parse_calendar,
    safe_url,
    validate_window,
    window_for,
)


def _translate(exc: BaseException, where: str, timeout: float) -> SourceError:
    """One sentence for whatever the caldav library or its HTTP client raised."""
    from caldav.lib import error as dav_error

    text = str(exc)
    low = text.lower()
    if isinstance(exc, dav_error.AuthorizationError) or " 401" in text or "unauthorized" in low or " 403" in text:
        return AuthError(f"{where} refused the user name or password; enter them again.")
    if "timed out" in low or "timeout" in type(exc).__name__.lower() or "read timeout" in low:
        return SourceError(f"{where} did not answer within {timeout:g} s; Mirror will try again later.")
    if "connection refused" in low or "failed to establish" in low or "name or service not known" in low \
            or "connect" in type(exc).__name__.lower():
        return SourceError(f"{where} cannot be reached (connection refused or no such host); check the address.")
    status = next((code for code in ("500", "502", "503", "504") if code in text), None)
    if status:
        return SourceError(f"{where} answered with an error (HTTP {status}); it may be down, Mirror will try again later.")
    first = text.splitlines()[0][:120] if text else type(exc).__name__
    return SourceError(f"{where} could not be read ({first}); check the address and try again later.")


class CalDavConnector(Connector):
    integration_type = "calendar"
    provider = "caldav"
    needs_secret = True
    description = "any CalDAV server (user name, and a password in the keychain or a password file)"

    def validate(self, config: Mapping[str, Any]) -> list[str]:
        problems = []
        url = config.get("url")
        if not isinstance(url, str) or not url.strip():
            problems.append("A CalDAV calendar needs --url, the server's address.")
        else:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append(f"The CalDAV address must start with http:// or https:// (got {safe_url(url)!r}).")
            elif "@" in parts.netloc:
                problems.append("Put the user name in --username and the password in --password-file, not in the address.")
        if not isinstance(config.get("username"), str) or not str(config.get("username")).strip():
            problems.append("A CalDAV calendar needs --username.")
        calendar = config.get("calendar")
        if calendar is not None and not isinstance(calendar, str):
            problems.append("calendar must be the name of one calendar on the server.")
        return problems + validate_window(config)

    def location(self, config: Mapping[str, Any]) -> str:
        return safe_url(str(config.get("url", "")))

    def fetch(self, config: Mapping[str, Any], secret: str | None, ctx: FetchContext) -> FetchResult:
        import caldav

        client_class: Any = caldav.DAVClient
        url = str(config["url"])
        where = f"The CalDAV server at {urlsplit(url).netloc}"
        if not secret:
            raise AuthError(f"{where} needs a password and Mirror has none for it; enter it again.")
        window = window_for(config, ctx.now)
        try:
            with client_class(url=url, username=str(config["username"]), password=secret,
                                  timeout=max(1, int(ctx.timeout))) as client:
                calendars = self._calendars(client, config, where)
                ctx.check()
                tokens: dict[str, Any] = {}
                changed = ctx.cursor.get("window") != _window_key(window)
                previous = ctx.cursor.get("tokens") or {}
                for cal in calendars:
                    key = str(cal.url)
                    try:
                        delta = cal.get_objects_by_sync_token(previous.get(key), load_objects=False)
                        tokens[key] = delta.sync_token
                        if previous.get(key) is None or list(delta) or getattr(delta, "deleted_urls", None):
                            changed = True
                    except Exception:
                        changed = True  # a server without sync tokens: fetch everything every time
                    check_deadline(ctx, where)
                if set(previous) != set(tokens):
                    changed = True
                cursor = {"window": _window_key(window), "tokens": tokens}
                if not changed:
                    return FetchResult(not_modified=True, cursor=cursor, window=window)
                items: list[Item] = []
                for cal in calendars:
                    prefix = hashlib.sha256(urlsplit(str(cal.url)).path.encode()).hexdigest()[:8] + ":"
                    for obj in cal.search(event=True):
                        ctx.check()
                        check_deadline(ctx, where)
                        data = obj.data
                        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data or b"")
                        parsed = parse_calendar(raw, f"An event on {where[4:]}")
                        items.extend(expand_events(parsed, window, ctx, f"A calendar on {where[4:]}", prefix))
                        if len(items) > MAX_EVENTS:
                            raise SourceError(f"{where} holds more than {MAX_EVENTS:,} events inside the sync window; "
                                              "shorten the look-back and sync again.")
                return FetchResult(items=items, cursor=cursor, window=window, description=safe_url(url))
        except SourceError:
            raise
        except Exception as exc:
            raise _translate(exc, where, ctx.timeout) from None

    def _calendars(self, client: Any, config: Mapping[str, Any], where: str) -> list[Any]:
        principal = client.principal()
        calendars = list(principal.calendars())
        wanted = config.get("calendar")
        if wanted:
            named = [c for c in calendars if (c.get_display_name() or "") == wanted or str(c.url).rstrip("/").endswith("/" + wanted)]
            if not named:
                names = ", ".join(sorted(str(c.get_display_name() or c.url) for c in calendars)) or "none"
                raise SourceError(f"{where} has no calendar named {wanted!r} (it has: {names}); check the name.")
            return named
        if not calendars:
            raise SourceError(f"{where} has no calendars for this user; create one or check the address.")
        return calendars


register(CalDavConnector())
