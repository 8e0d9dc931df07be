"""`mirror reflect` and `mirror feedback`: write a reflection and get its mirrorback, rate a mirrorback (issue 6).

The reflection is saved before the engine runs, so whatever the engine does, nothing written is
lost. Bad input ends in one sentence on stderr and a non-zero exit, never a traceback:
empty text and binary data (exit 2, nothing saved); an LLM engine that fails or is refused (exit 1,
the reflection and the built-in engine's mirrorback are saved and printed).
"""

from __future__ import annotations

import argparse
import sys
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


def read_text(arg: str | None) -> str:
    """The reflection from the argument or stdin, refused with one sentence if it cannot be a reflection."""
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
    if _looks_binary(text):
        raise CliError("The text looks like binary data, not writing; nothing was saved.")
    if not text.strip():
        raise CliError("There is nothing to reflect on: the text is empty. Nothing was saved.")
    return text


# -- commands ------------------------------------------------------------------------------------
def cmd_reflect(args: argparse.Namespace) -> int:
    from mirror_desktop.core.engine_settings import EngineSettingsStore
    from mirror_desktop.core.mirrorbacks import MirrorbackService
    from mirror_desktop.core.services import JournalService, identity_by_name_or_id
    from mirror_desktop.core.tensions import TensionService

    text = read_text(args.text)
    store = EngineSettingsStore(AppPaths.resolve(args.data_dir).config_dir)
    storage = open_journal(args)
    try:
        identity_id = None
        if args.identity is not None:
            try:
                ident = identity_by_name_or_id(storage, args.identity)
            except MirrorError as exc:
                raise CliError(f"{str(exc).rstrip('.')}; nothing was saved.") from None
            identity_id = ident.id if ident is not None else None
        # A new journal gets its default tensions first, as the window and `mirror tension` do.
        TensionService(storage).ensure_seeds()
        reflection = JournalService(storage).save_reflection(text, identity_id=identity_id)
        try:
            result = MirrorbackService(storage, store.engine_factory()).reflect(
                reflection.id, allow_remote=args.allow_remote)
        except MirrorError as exc:
            raise CliError(f"Your reflection was saved (id {reflection.id}), but no mirrorback was written: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - the reflection is safe; say so instead of a traceback
            raise CliError(f"Your reflection was saved (id {reflection.id}), but the engine failed "
                           f"({type(exc).__name__}); try `mirror reflect` again or check the engine settings.") from None
        _print_result(args, result.to_json())
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
