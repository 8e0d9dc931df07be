"""`mirror reflect` and `mirror feedback`: write a reflection and get its mirrorback, rate a mirrorback (issue 6).

The reflection is saved before the engine runs, so whatever the engine does, nothing written is
lost. Bad input ends in one sentence on stderr and a non-zero exit, never a traceback:
empty text and binary data (exit 2, nothing saved); an LLM engine that fails or is refused (exit 1,
the reflection and the built-in engine's mirrorback are saved and printed).

Issue 16 adds --date (backdating), --tag, --visibility and --template, and jrnl's habit: with no
TEXT on a terminal, $VISUAL or $EDITOR opens on a private temporary file, deleted afterwards; an
editor that fails leaves the file in place and the person is told where.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mirror_desktop.cli.main import EXIT_FAILURE, CliError, open_journal, print_json
from mirror_desktop.core.enums import FEEDBACK_FLAGS
from mirror_desktop.core.errors import MirrorError
from mirror_desktop.paths import AppPaths

# The engine and the services load inside the commands that use them: every other `mirror` command (and
# --version) starts without them (issue 12).

# A reflection larger than this is almost certainly a wrong file piped in by mistake.
MAX_INPUT_BYTES = 10 * 1024 * 1024
_ALLOWED_CONTROLS = frozenset("\t\n\r\f")


def register(sub: argparse._SubParsersAction) -> None:
    rp = sub.add_parser("reflect", help="save a reflection and print Mirror's mirrorback",
                        description="Save a reflection and print its mirrorback. The text comes from TEXT, "
                                    "or from stdin when TEXT is omitted or '-'.")
    rp.add_argument("text", nargs="?", metavar="TEXT", help="the reflection; omit or '-' to read stdin")
    rp.add_argument("--identity", metavar="NAME|ID", help="the identity the reflection belongs to (a name or an id)")
    rp.add_argument("--date", metavar="\"YYYY-MM-DD[ HH:MM]\"",
                    help="date the reflection (local time; a date alone is noon, today is now); not in the future")
    rp.add_argument("--tag", dest="tags", action="append", metavar="T", default=[],
                    help="repeatable; one word each (letters, digits, - _ and emoji; no spaces)")
    rp.add_argument("--visibility", metavar="LEVEL",
                    help="local_only (default), sync_summary, sync_full_private or sync_full_public; "
                         "anything but local_only needs --identity")
    rp.add_argument("--template", metavar="NAME", help="start from a template (see `mirror template list`)")
    rp.add_argument("--allow-remote", action="store_true",
                    help="yes, send this reflection to the remote engine even though it is local only "
                         "(without it a remote engine never sees local-only text; the offline engine answers)")
    rp.add_argument("--json", action="store_true",
                    help="print reflection_id, mirrorback, patterns, tensions_surfaced, flags, engine_mode, "
                         "model_name, duration_ms and run_id as JSON")
    rp.set_defaults(func=cmd_reflect)

    fp = sub.add_parser("feedback", help="rate a mirrorback: 1-5, flags, notes",
                        description="Record feedback on a mirrorback, by the run id that `reflect --json` printed.")
    fp.add_argument("run_id", metavar="RUN_ID", help="the engine run id of the mirrorback")
    fp.add_argument("--rating", metavar="N", help="1 (missed) to 5 (landed)")
    fp.add_argument("--flag", dest="flags", action="append", metavar="F", default=[],
                    help="repeatable; one of: " + ", ".join(FEEDBACK_FLAGS))
    fp.add_argument("--notes", metavar="TEXT", help="free-form notes (kept on this device)")
    fp.add_argument("--json", action="store_true", help="print the saved feedback as JSON")
    fp.set_defaults(func=cmd_feedback)


# -- input ---------------------------------------------------------------------------------------
def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in _ALLOWED_CONTROLS)
    return controls > max(2, len(text) // 100)


def editor_command() -> list[str] | None:
    """$VISUAL, then $EDITOR, split as a shell would (an editor may carry flags: "code --wait")."""
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                return shlex.split(value)
            except ValueError:
                raise CliError(f"${name} ({value!r}) cannot be read as a command; fix its quotes. "
                               "Nothing was saved.") from None
    return None


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


class EditedText:
    """Text written in an editor and the temporary file that holds it until the journal has it."""

    def __init__(self, text: str, path: Path | None) -> None:
        self.text = text
        self.path = path

    def saved(self) -> None:
        """The journal holds the text now: the temporary file goes."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None

    def discard(self) -> None:
        self.saved()

    def kept_note(self) -> str:
        return f" Your text is kept in {self.path}." if self.path is not None else ""


def text_from_editor(initial: str = "", *, what: str = "reflection") -> EditedText:
    """Open $VISUAL/$EDITOR on a private temporary file holding ``initial``; return what was written.

    The caller deletes the file (``saved()``) once the journal holds the text. An editor that
    cannot start or exits non-zero leaves the file and the one sentence says where.
    """
    command = editor_command()
    if command is None:
        raise CliError(f"Give the {what} as TEXT or on stdin, or set $VISUAL or $EDITOR to write it in an "
                       "editor; nothing was saved.")
    fd, name = tempfile.mkstemp(prefix="mirror-", suffix=".md")  # 0600: only this user can read it
    path = Path(name)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(initial)
    try:
        code = subprocess.call([*command, str(path)])
    except OSError as exc:
        raise CliError(f"The editor {command[0]!r} could not be started ({exc.strerror or exc}); nothing was saved "
                       f"to the journal, and the text is kept in {path}.") from None
    if code != 0:
        raise CliError(f"The editor exited with status {code}, so nothing was saved to the journal; "
                       f"your text is kept in {path}.")
    raw = path.read_bytes()
    if len(raw) > MAX_INPUT_BYTES:
        raise CliError(f"The text is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB; nothing was saved, "
                       f"and it is kept in {path}.")
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise CliError(f"The editor saved text that is not UTF-8; nothing was saved, and it is kept in {path}.") from None
    return EditedText(text, path)


def read_text(arg: str | None, *, template: str | None = None) -> EditedText:
    """The reflection from the argument, stdin or an editor, refused with one sentence if it cannot be one.

    ``template``: the body a new reflection starts from. The editor opens with it; TEXT or stdin
    is written below it. Text left exactly as the template came is refused (nothing was written).
    """
    if arg is None and stdin_is_terminal():
        edited = text_from_editor(template or "")
        blank = not edited.text.strip() or (template is not None and edited.text.strip() == template.strip())
        if blank:
            edited.discard()  # nothing of the person's is in it
            raise CliError("Nothing was written in the editor; nothing was saved.")
        try:
            _checked(edited.text)
        except CliError as exc:
            raise CliError(str(exc) + edited.kept_note()) from None
        return edited
    text = _read_arg_or_stdin(arg)
    if template is not None:
        text = template.rstrip() + "\n\n" + text
    return EditedText(_checked(text), None)


def _checked(text: str) -> str:
    if _looks_binary(text):
        raise CliError("The text looks like binary data, not writing; nothing was saved.")
    if not text.strip():
        raise CliError("There is nothing to reflect on: the text is empty. Nothing was saved.")
    return text


def _read_arg_or_stdin(arg: str | None) -> str:
    if arg is None or arg == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise CliError("Give the reflection as TEXT, or pipe it on stdin; nothing was saved.")
        raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        if len(raw) > MAX_INPUT_BYTES:
            raise CliError(f"The text on stdin is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB, "
                           "which looks like the wrong file; nothing was saved.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CliError("The text on stdin is not valid UTF-8 (it looks like binary data); "
                           "save it as UTF-8 text and try again. Nothing was saved.") from None
        text = text.removeprefix("\ufeff")
    else:
        text = arg
        # Python hands undecodable argument bytes over as lone surrogates.
        if any("\udc80" <= ch <= "\udcff" for ch in text):
            raise CliError("The text is not valid UTF-8 (it looks like binary data); nothing was saved.")
    return text


# -- commands ------------------------------------------------------------------------------------
VISIBILITIES = ("local_only", "sync_summary", "sync_full_private", "sync_full_public")


def check_visibility(level: str | None, has_identity: bool) -> str:
    """--visibility as stored, or one sentence: an unknown level, or sharing without an identity."""
    if level is None:
        return "local_only"
    value = level.strip().lower().replace("-", "_")
    if value not in VISIBILITIES:
        raise CliError(f"{level!r} is not a visibility; use one of: {', '.join(VISIBILITIES)}. Nothing was saved.")
    if value != "local_only" and not has_identity:
        raise CliError("An anonymous reflection stays local_only; add --identity NAME to share it. Nothing was saved.")
    return value


def check_tags(tags: list[str]) -> list[str]:
    from mirror_desktop.core.writing import normalize_tags

    try:
        return normalize_tags(tags)
    except MirrorError as exc:
        raise CliError(f"{str(exc).rstrip('.')}; nothing was saved.") from None


def resolve_identity(storage: Any, text: str | None) -> str | None:
    from mirror_desktop.core.services import identity_by_name_or_id

    if text is None:
        return None
    try:
        ident = identity_by_name_or_id(storage, text)
    except MirrorError as exc:
        raise CliError(f"{str(exc).rstrip('.')}; nothing was saved.") from None
    return ident.id if ident is not None else None


def cmd_reflect(args: argparse.Namespace) -> int:
    from mirror_desktop.core.engine_settings import EngineSettingsStore
    from mirror_desktop.core.mirrorbacks import MirrorbackService
    from mirror_desktop.core.services import JournalService
    from mirror_desktop.core.templates import TemplateService
    from mirror_desktop.core.tensions import TensionService
    from mirror_desktop.core.writing import WritingService

    tags = check_tags(args.tags)
    # Text given or piped is read (and refused) before the journal is opened; the editor waits
    # until everything else has been checked.
    given = None if args.text is None and stdin_is_terminal() else _checked(_read_arg_or_stdin(args.text))
    store = EngineSettingsStore(AppPaths.resolve(args.data_dir).config_dir)
    storage = open_journal(args)
    try:
        # Everything that can be refused is checked before the person writes a word in an editor.
        identity_id = resolve_identity(storage, args.identity)
        visibility = check_visibility(args.visibility, identity_id is not None)
        created_at = None
        if args.date is not None:
            try:
                created_at = WritingService(storage).parse_date(args.date)
            except MirrorError as exc:
                raise CliError(f"{str(exc).rstrip('.')}; nothing was saved.") from None
        template = TemplateService(storage).get(args.template) if args.template is not None else None
        if given is None:
            edited = read_text(None, template=template.body if template is not None else None)
        else:
            edited = EditedText(template.body.rstrip() + "\n\n" + given if template is not None else given, None)
        try:
            # A new journal gets its default tensions first, as the window and `mirror tension` do.
            TensionService(storage).ensure_seeds(store.load().config.effective_mode)
            reflection = JournalService(storage).save_reflection(
                edited.text, identity_id=identity_id, visibility=visibility, tags=tags or None,
                created_at=created_at, template=template.name if template is not None else None)
        except MirrorError as exc:
            raise CliError(f"{str(exc).rstrip('.')}; nothing was saved.{edited.kept_note()}") from None
        except BaseException:
            if edited.path is not None:
                print(f"mirror: nothing was saved; your text is kept in {edited.path}.", file=sys.stderr)
            raise
        edited.saved()
        try:
            result = MirrorbackService(storage, store.engine_factory()).reflect(
                reflection.id, allow_remote=args.allow_remote)
        except MirrorError as exc:
            raise CliError(f"Your reflection was saved (id {reflection.id}), but no mirrorback was written: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - the reflection is safe; say so instead of a traceback
            from mirror_desktop.storage.database import environment_error

            cause = environment_error(exc)  # a full disk or a busy journal while the mirrorback was stored
            if cause is not None:
                raise CliError(f"Your reflection was saved (id {reflection.id}), but no mirrorback was written: "
                               f"{cause}") from None
            raise CliError(f"Your reflection was saved (id {reflection.id}), but the engine failed "
                           f"({type(exc).__name__}); try `mirror reflect` again or check the engine settings.") from None
        data = result.to_json()
        data.update({"created_at": reflection.created_at.isoformat(), "identity_id": reflection.identity_id,
                     "visibility": str(reflection.visibility), "tags": reflection.tags,
                     "template": template.name if template is not None else None})
        _print_result(args, data)
        failed = False
        if store.problem:
            print(f"mirror: {store.problem}", file=sys.stderr)
            failed = True
        if result.kept_local:
            # A rule kept, not a failure: say why and how to say yes (issue 11, item 7).
            print("mirror: This reflection is local only, so the offline engine answered instead of the remote "
                  "one; add --allow-remote to send a reflection to it.", file=sys.stderr)
        elif result.notice:
            print(f"mirror: {result.notice}", file=sys.stderr)
            failed = failed or result.fell_back
        return EXIT_FAILURE if failed else 0
    finally:
        storage.close()


def _print_result(args: argparse.Namespace, data: dict[str, Any]) -> None:
    if args.json:
        print_json(data)
        return
    sys.stdout.write(data["mirrorback"].rstrip() + "\n")
    for t in data["suggested_tensions"]:
        sys.stdout.write(f"\nA tension you might track: {t['name']} (suggested; see `mirror tension list`).\n")
    sys.stdout.flush()


def _rating(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise CliError(f"--rating must be a whole number from 1 to 5 (got {text!r}); nothing was saved.") from None
    if not 1 <= value <= 5:
        raise CliError(f"--rating must be from 1 to 5 (got {value}); nothing was saved.")
    return value


def cmd_feedback(args: argparse.Namespace) -> int:
    from mirror_desktop.core.engine_settings import EngineSettingsStore
    from mirror_desktop.core.mirrorbacks import MirrorbackService

    rating = _rating(args.rating)
    unknown = [f for f in args.flags if f not in FEEDBACK_FLAGS]
    if unknown:
        raise CliError(f"{unknown[0]!r} is not a feedback flag; use one of: {', '.join(FEEDBACK_FLAGS)}. Nothing was saved.")
    if rating is None and not args.flags and not (args.notes or "").strip():
        raise CliError("Feedback needs --rating, --flag or --notes; nothing was saved.")
    share = EngineSettingsStore(AppPaths.resolve(args.data_dir).config_dir).load().share_telemetry
    storage = open_journal(args)
    try:
        if storage.engine_runs.find(args.run_id) is None:
            raise CliError(f"No mirrorback run with id {args.run_id} exists; use the run_id that "
                           "`mirror reflect --json` printed. Nothing was saved.")
        fb = MirrorbackService(storage, share_telemetry=share).record_feedback(
            args.run_id, rating=rating, flags=args.flags, notes=args.notes)
    finally:
        storage.close()
    if args.json:
        print_json({"id": fb.id, "engine_run_id": fb.engine_run_id, "rating": fb.rating, "flags": fb.flags or [],
                    "notes": fb.notes, "sync_allowed": fb.sync_allowed, "timestamp": fb.timestamp.isoformat()})
    else:
        print(f"Feedback saved for run {fb.engine_run_id}.")
    return 0
