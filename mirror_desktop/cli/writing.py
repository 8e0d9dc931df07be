"""`mirror list|show|edit|delete|on-this-day|stats|template`: the nightly writer's terminal (issue 16, item 8).

jrnl's users live here, so each command does one thing and prints either lines for a person or,
with --json, data for a script. Dates are the person's local days (WritingService: the journal's
time zone and day start). Ids may be cut to a unique prefix of at least 4 characters, as printed.
Bad input is one sentence on stderr and exit status 2, with nothing changed.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mirror_desktop.cli.main import CliError, open_journal, print_json
from mirror_desktop.cli.reflect import (
    EditedText,
    _checked,
    _read_arg_or_stdin,
    check_tags,
    check_visibility,
    stdin_is_terminal,
    text_from_editor,
)
from mirror_desktop.core import models as m
from mirror_desktop.core.errors import MirrorError

MIN_PREFIX = 4
# A template file larger than this is not read at all (the 64 KB rule then speaks for itself).
TEMPLATE_READ_LIMIT = 1024 * 1024


def register(sub: argparse._SubParsersAction) -> None:
    lp = sub.add_parser("list", help="list reflections, newest first",
                        description="List reflections, newest first. Dates are local days (YYYY-MM-DD), both ends included.")
    lp.add_argument("-n", dest="limit", metavar="N", default="50", help="at most N reflections (default 50; 0 for all)")
    lp.add_argument("--since", metavar="D", help="from this day on (YYYY-MM-DD)")
    lp.add_argument("--until", metavar="D", help="up to and including this day (YYYY-MM-DD)")
    lp.add_argument("--tag", dest="tags", action="append", metavar="T", default=[],
                    help="only reflections with this tag (repeatable: all of them)")
    lp.add_argument("--identity", metavar="ID", help="only this identity (a name or an id; Anonymous for none)")
    lp.add_argument("--json", action="store_true", help="print the reflections as a JSON array")
    lp.set_defaults(func=cmd_list)

    sp = sub.add_parser("show", help="print one reflection and its mirrorbacks")
    sp.add_argument("id", metavar="ID", help="the reflection's id (or a unique prefix of at least 4 characters)")
    sp.add_argument("--json", action="store_true", help="print the reflection as JSON")
    sp.set_defaults(func=cmd_show)

    ep = sub.add_parser("edit", help="replace a reflection's text (an editor opens when no TEXT is given)")
    ep.add_argument("id", metavar="ID", help="the reflection's id (or a unique prefix)")
    ep.add_argument("text", nargs="?", metavar="TEXT", help="the new text; '-' reads stdin; omitted on a terminal: $EDITOR")
    ep.add_argument("--date", metavar="\"YYYY-MM-DD[ HH:MM]\"", help="re-date the reflection (not in the future)")
    ep.add_argument("--tag", dest="tags", action="append", metavar="T", default=None,
                    help="replace its tags (repeatable)")
    ep.add_argument("--visibility", metavar="LEVEL", help="local_only, sync_summary, sync_full_private or sync_full_public")
    ep.add_argument("--json", action="store_true", help="print the saved reflection as JSON")
    ep.set_defaults(func=cmd_edit)

    dp = sub.add_parser("delete", help="delete a reflection everywhere (its text is purged)")
    dp.add_argument("id", metavar="ID", help="the reflection's id (or a unique prefix)")
    dp.add_argument("--json", action="store_true", help="print what was deleted as JSON")
    dp.set_defaults(func=cmd_delete)

    op = sub.add_parser("on-this-day", help="reflections from this day in earlier years")
    op.add_argument("--date", metavar="YYYY-MM-DD", help="another day than today")
    op.add_argument("--identity", metavar="ID", help="only this identity (a name or an id)")
    op.add_argument("--json", action="store_true", help="print a JSON array; each entry has years_ago")
    op.set_defaults(func=cmd_on_this_day)

    st = sub.add_parser("stats", help="streaks, words and tags")
    st.add_argument("--identity", metavar="ID", help="only this identity (a name or an id)")
    st.add_argument("--json", action="store_true",
                    help="current_streak, longest_streak, reflections, words, by_month, top_tags and more as JSON")
    st.set_defaults(func=cmd_stats)

    tp = sub.add_parser("template", help="list, show, add and remove templates")
    tsub = tp.add_subparsers(dest="template_command", metavar="ACTION", required=True)
    tl = tsub.add_parser("list", help="the templates, built-in ones first")
    tl.add_argument("--json", action="store_true", help="print the templates as JSON")
    tl.set_defaults(func=cmd_template_list)
    ts = tsub.add_parser("show", help="print a template")
    ts.add_argument("name", metavar="NAME")
    ts.add_argument("--json", action="store_true", help="print the template as JSON")
    ts.set_defaults(func=cmd_template_show)
    ta = tsub.add_parser("add", help="add a template (or replace your own of that name) from a file")
    ta.add_argument("name", metavar="NAME")
    ta.add_argument("--file", metavar="F", required=True, help="a UTF-8 text file of at most 64 KB; '-' reads stdin")
    ta.add_argument("--json", action="store_true", help="print the saved template as JSON")
    ta.set_defaults(func=cmd_template_add)
    tr = tsub.add_parser("remove", help="remove a template of your own")
    tr.add_argument("name", metavar="NAME")
    tr.set_defaults(func=cmd_template_remove)


# -- helpers --------------------------------------------------------------------------------------
def _unchanged(exc: MirrorError) -> CliError:
    return CliError(f"{str(exc).rstrip('.')}; nothing was changed.")


def find_reflection(storage: Any, ident: str) -> m.Reflection:
    """A reflection by id or unique prefix (at least 4 characters), or one sentence why not."""
    key = ident.strip()
    exact = storage.reflections.find(key) if key else None
    if exact is not None:
        return exact
    if len(key) >= MIN_PREFIX:
        found = storage.reflections.find_prefix(key, limit=2)
        if len(found) == 1:
            return found[0]  # type: ignore[no-any-return]
        if len(found) > 1:
            raise CliError(f"{key!r} starts more than one reflection id; give more of the id.")
    elif key and storage.reflections.find_prefix(key, limit=1):
        raise CliError(f"{key!r} is too short to pick a reflection; give at least {MIN_PREFIX} characters of its id "
                       "(`mirror list` shows 8).")
    raise CliError(f"No reflection has the id {key!r}; run `mirror list` to see the ids.")


def _scope(storage: Any, text: str | None) -> Any:
    from mirror_desktop.core.services import identity_by_name_or_id
    from mirror_desktop.core.writing import EVERYONE, Scope

    if text is None:
        return EVERYONE
    ident = identity_by_name_or_id(storage, text)
    return Scope(anonymous_only=True) if ident is None else Scope(ident.id)


def _day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CliError(f"{flag} takes a day as YYYY-MM-DD, like 2024-03-15 (got {text!r}).") from None


class Formatter:
    """Reflections as a person reads them (local dates) and as JSON."""

    def __init__(self, storage: Any) -> None:
        from mirror_desktop.core.writing import WritingService

        self.ws = WritingService(storage)
        self.settings = self.ws.settings()
        self.tz = self.ws.tz()
        self.names = {i.id: i.name for i in storage.identities.list()}

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz)

    def to_json(self, r: m.Reflection, **extra: Any) -> dict[str, Any]:
        meta = r.metadata or {}
        return {
            "id": r.id,
            "created_at": r.created_at.isoformat(),
            "local_time": self.local(r.created_at).isoformat(timespec="minutes"),
            "date": self.ws.local_day(r.created_at, self.settings).isoformat(),
            "identity_id": r.identity_id,
            "identity": self.names.get(r.identity_id, "Anonymous") if r.identity_id else "Anonymous",
            "visibility": str(r.visibility),
            "tags": r.tags,
            "word_count": meta.get("word_count"),
            "template": meta.get("template"),
            "content": r.content,
            **extra,
        }

    def line(self, r: m.Reflection) -> str:
        first = " ".join(r.content.split())
        if len(first) > 72:
            first = first[:71] + "…"
        tags = " " + " ".join(f"#{t}" for t in r.tags) if r.tags else ""
        who = f" [{self.names.get(r.identity_id, '?')}]" if r.identity_id else ""
        return f"{self.local(r.created_at):%Y-%m-%d %H:%M}  {r.id[:8]}{who}{tags}  {first}"


# -- list / show / edit / delete ------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    from mirror_desktop.core.models import SearchFilters
    from mirror_desktop.core.services import JournalService

    try:
        limit = int(args.limit)
    except ValueError:
        raise CliError(f"-n takes a whole number of reflections (got {args.limit!r}).") from None
    if limit < 0:
        raise CliError(f"-n takes 0 (all) or more reflections (got {limit}).")
    since = _day(args.since, "--since") if args.since else None
    until = _day(args.until, "--until") if args.until else None
    if since and until and since > until:
        raise CliError(f"--since {since} is after --until {until}; give the earlier day first.")
    # Any tag a journal holds can be looked for (older journals have "two words"); only trimmed.
    tags = tuple(t.strip().removeprefix("#").strip().lower() for t in args.tags)
    if any(not t for t in tags):
        raise CliError("--tag needs a tag, such as --tag sleep.")
    with open_journal(args, read_only_ok=True) as storage:
        scope = _scope(storage, args.identity)
        fmt = Formatter(storage)
        filters = SearchFilters(
            identity_id=scope.identity_id, anonymous_only=scope.anonymous_only, tags=tags,
            since=fmt.ws.day_bounds(since, fmt.settings)[0] if since else None,
            until=fmt.ws.day_bounds(until, fmt.settings)[1] if until else None)
        svc = JournalService(storage)
        rows: list[m.Reflection] = []
        after = None
        while limit == 0 or len(rows) < limit:
            want = 500 if limit == 0 else min(500, limit - len(rows))
            page = svc.reflections_page(filters, after=after, limit=want)
            rows += page
            if len(page) < want:
                break
            after = (page[-1].created_at, page[-1].id)
        if args.json:
            print_json([fmt.to_json(r) for r in rows])
        else:
            for r in rows:
                sys.stdout.write(fmt.line(r) + "\n")
            if not rows:
                sys.stdout.write("No reflections match.\n")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_journal(args, read_only_ok=True) as storage:
        r = find_reflection(storage, args.id)
        fmt = Formatter(storage)
        backs = storage.mirrorbacks.list(reflection_id=r.id)
        if args.json:
            print_json(fmt.to_json(r, mirrorbacks=[{"id": b.id, "created_at": b.created_at.isoformat(),
                                                    "content": b.content} for b in backs]))
            return 0
        data = fmt.to_json(r)
        head = f"{fmt.local(r.created_at):%Y-%m-%d %H:%M}  {r.id}"
        details = [data["identity"], data["visibility"]] + [f"#{t}" for t in r.tags]
        sys.stdout.write(f"{head}\n{'  '.join(details)}\n\n{r.content.rstrip()}\n")
        for b in backs:
            sys.stdout.write(f"\n— Mirror, {fmt.local(b.created_at):%Y-%m-%d %H:%M}\n{b.content.rstrip()}\n")
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    from mirror_desktop.core.services import JournalService
    from mirror_desktop.core.writing import WritingService

    tags = check_tags(args.tags) if args.tags is not None else None
    given = None if args.text is None and stdin_is_terminal() else _checked(_read_arg_or_stdin(args.text))
    with open_journal(args) as storage:
        r = find_reflection(storage, args.id)
        visibility = check_visibility(args.visibility, r.identity_id is not None) if args.visibility else str(r.visibility)
        created_at = None
        if args.date is not None:
            try:
                created_at = WritingService(storage).parse_date(args.date)
            except MirrorError as exc:
                raise _unchanged(exc) from None
        edited = EditedText(given, None) if given is not None else text_from_editor(r.content)
        if not edited.text.strip():
            edited.discard()
            raise CliError("The new text is empty; the reflection was not changed (use `mirror delete` to remove it).")
        try:
            saved = JournalService(storage).save_reflection(
                edited.text, reflection_id=r.id, identity_id=r.identity_id, visibility=visibility,
                tags=tags, created_at=created_at)
        except MirrorError as exc:
            raise CliError(f"{str(exc).rstrip('.')}; nothing was changed.{edited.kept_note()}") from None
        edited.saved()
        if args.json:
            print_json(Formatter(storage).to_json(saved))
        else:
            sys.stdout.write(f"Reflection {saved.id[:8]} saved.\n")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from mirror_desktop.core.services import JournalService

    with open_journal(args) as storage:
        r = find_reflection(storage, args.id)
        notice = JournalService(storage).delete_reflection(r.id)
    if args.json:
        print_json({"deleted": r.id, "backups_may_hold": notice.backups_may_hold, "message": notice.message})
    else:
        sys.stdout.write(notice.message + "\n")
    return 0


# -- on this day / stats --------------------------------------------------------------------------
def cmd_on_this_day(args: argparse.Namespace) -> int:
    day = _day(args.date, "--date") if args.date else None
    with open_journal(args, read_only_ok=True) as storage:
        scope = _scope(storage, args.identity)
        fmt = Formatter(storage)
        entries = fmt.ws.on_this_day(day, scope)
        if args.json:
            print_json([fmt.to_json(e.reflection, years_ago=e.years_ago) for e in entries])
            return 0
        if not entries:
            sys.stdout.write("Nothing written on this day in earlier years.\n")
        for e in entries:
            ago = "1 year ago" if e.years_ago == 1 else f"{e.years_ago} years ago"
            sys.stdout.write(f"{ago} · {fmt.line(e.reflection)}\n")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with open_journal(args, read_only_ok=True) as storage:
        scope = _scope(storage, args.identity)
        fmt = Formatter(storage)
        stats = fmt.ws.stats(scope)
    if args.json:
        print_json(stats.to_json())
        return 0
    days = "day" if stats.current_streak == 1 else "days"
    lines = [
        f"Current streak: {stats.current_streak} {days} · longest: {stats.longest_streak}",
        f"{stats.reflections} reflections, {stats.words} words on {stats.days_written} days "
        f"(about {stats.words_per_day:.0f} words a day you write)",
    ]
    if stats.by_month:
        recent = list(stats.by_month.items())[-6:]
        lines.append("Recent months: " + ", ".join(f"{k} {v}" for k, v in recent))
    if stats.top_tags:
        lines.append("Most used tags: " + ", ".join(f"#{t.tag} {t.count}" for t in stats.top_tags[:5]))
    if stats.reflections:
        peak = max(range(24), key=lambda h: stats.by_hour[h])
        lines.append(f"You write most around {peak:02d}:00.")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


# -- templates --------------------------------------------------------------------------------------
def cmd_template_list(args: argparse.Namespace) -> int:
    from mirror_desktop.core.templates import TemplateService

    with open_journal(args, read_only_ok=True) as storage:
        items = TemplateService(storage).list()
    if args.json:
        print_json([t.to_json() for t in items])
    else:
        for t in items:
            kind = "built-in" if t.builtin else ("yours, replaces the built-in" if t.overrides_builtin else "yours")
            sys.stdout.write(f"{t.name}  ({kind})\n")
    return 0


def cmd_template_show(args: argparse.Namespace) -> int:
    from mirror_desktop.core.templates import TemplateService

    with open_journal(args, read_only_ok=True) as storage:
        t = TemplateService(storage).get(args.name)
    if args.json:
        print_json(t.to_json())
    else:
        sys.stdout.write(t.body if t.body.endswith("\n") else t.body + "\n")
    return 0


def _template_text(source: str) -> str:
    from mirror_desktop.core.templates import TEMPLATE_MAX_BYTES

    if source == "-":
        raw = sys.stdin.buffer.read(TEMPLATE_READ_LIMIT + 1)
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise CliError(f"{path} is not a file; give the template as a text file. Nothing was changed.")
        size = path.stat().st_size
        if size > TEMPLATE_READ_LIMIT:
            raise CliError(f"{path} is {size / (1024 * 1024):.1f} MB; a template can be at most "
                           f"{TEMPLATE_MAX_BYTES // 1024} KB (a page of questions). Nothing was changed.")
        raw = path.read_bytes()[:TEMPLATE_READ_LIMIT + 1]
    if len(raw) > TEMPLATE_READ_LIMIT:
        raise CliError(f"The template is larger than {TEMPLATE_MAX_BYTES // 1024} KB; nothing was changed.")
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise CliError("The template is not UTF-8 text; save it as UTF-8 and try again. Nothing was changed.") from None


def cmd_template_add(args: argparse.Namespace) -> int:
    from mirror_desktop.core.templates import TemplateService

    body = _template_text(args.file)
    with open_journal(args) as storage:
        try:
            t = TemplateService(storage).save(args.name, body)
        except MirrorError as exc:
            raise _unchanged(exc) from None
    if args.json:
        print_json(t.to_json())
    else:
        sys.stdout.write(f"Template “{t.name}” saved.\n")
    return 0


def cmd_template_remove(args: argparse.Namespace) -> int:
    from mirror_desktop.core.templates import TemplateService

    with open_journal(args) as storage:
        try:
            back = TemplateService(storage).remove(args.name)
        except MirrorError as exc:
            raise _unchanged(exc) from None
    note = f" The built-in “{back.name}” shows again." if back is not None else ""
    sys.stdout.write(f"Template removed.{note}\n")
    return 0
