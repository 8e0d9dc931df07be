"""`mirror tension list|add|set`: the tension map from the command line, through TensionService (issue 4).

A journal opened here gets its default tensions first (``list`` and ``add``), as the window does.
Every bad input is caught before anything is written: one sentence on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from mirror_desktop.cli.main import CliError, open_journal, print_json
from mirror_desktop.core import models as m
from mirror_desktop.core.tensions import (
    TensionService,
    axis_id_of,
    axis_to_json,
    suggestion_status,
    tension_to_json,
)
from mirror_desktop.core.validation import TENSION_NAME_MAX


def register(sub: argparse._SubParsersAction) -> None:
    tp = sub.add_parser("tension", help="list, add and move tensions on the map")
    tsub = tp.add_subparsers(dest="tension_command", metavar="ACTION", required=True)

    ls = tsub.add_parser("list", help="list tensions grouped by axis (suggestions included)")
    ls.add_argument("--json", action="store_true", help="every field, with metadata and position_history")
    ls.set_defaults(func=cmd_list)

    add = tsub.add_parser("add", help="add a tension between two poles")
    add.add_argument("name", metavar="NAME", help=f"at most {TENSION_NAME_MAX} characters")
    add.add_argument("--poles", nargs=2, metavar=("A", "B"), required=True, help="the two poles, -1 and +1")
    add.add_argument("--axis", metavar="NAME", help="the axis it belongs to (by name)")
    add.add_argument("--json", action="store_true", help="print the new tension as JSON")
    add.set_defaults(func=cmd_add)

    st = tsub.add_parser("set", help="move a tension: position -1..1, intensity 0..1")
    st.add_argument("id", metavar="ID", help="the tension's id (or a unique prefix of at least 4 characters)")
    st.add_argument("--position", metavar="P", help="-1 (first pole) to 1 (second pole)")
    st.add_argument("--intensity", metavar="I", help="0 (barely felt) to 1 (strongly felt)")
    st.add_argument("--json", action="store_true", help="print the moved tension as JSON")
    st.set_defaults(func=cmd_set)


def _number(text: str | None, flag: str, lo: float, hi: float) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise CliError(f"{flag} must be a number between {lo:g} and {hi:g} (got {text!r}); nothing was changed.") from None
    if math.isnan(value) or not lo <= value <= hi:
        raise CliError(f"{flag} must be between {lo:g} and {hi:g} (got {text}); nothing was changed.")
    return value


def _resolve(svc: TensionService, ident: str) -> m.Tension:
    exact = svc.storage.tensions.find(ident)
    if exact is not None:
        return exact
    if len(ident) >= 4:
        matches = [t for t in svc.storage.tensions.list() if t.id.startswith(ident)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise CliError(f"{ident!r} matches {len(matches)} tensions; give more of the id.")
    raise CliError(f"No tension has the id {ident!r}; run `mirror tension list` to see the ids.")


def _engine_mode(args: argparse.Namespace) -> str:
    """The chosen engine's mode, which a new journal's installation event records (issue 17)."""
    from mirror_desktop.core.engine_settings import engine_mode
    from mirror_desktop.paths import AppPaths

    return engine_mode(AppPaths.resolve(getattr(args, "data_dir", None)).config_dir)


def cmd_list(args: argparse.Namespace) -> int:
    with open_journal(args, read_only_ok=True) as storage:
        svc = TensionService(storage)
        if not getattr(storage, "readonly", False):
            svc.ensure_seeds(_engine_mode(args))
        tensions = svc.list_tensions(include_suggestions=True)
        axes = storage.axes.list()
    if args.json:
        print_json({"tensions": [tension_to_json(t) for t in tensions], "axes": [axis_to_json(a) for a in axes]})
        return 0
    names = {a.id: a.name for a in axes}
    groups: dict[str, list[m.Tension]] = {}
    for t in tensions:
        status = suggestion_status(t)
        key = "Suggestions" if status == "pending" else "Dismissed" if status == "dismissed" else names.get(axis_id_of(t) or "", "Unsorted")
        groups.setdefault(key, []).append(t)
    order = [a.name for a in axes] + ["Unsorted", "Suggestions", "Dismissed"]
    for key in sorted(groups, key=lambda k: order.index(k) if k in order else len(order)):
        print(key)
        for t in groups[key]:
            pos = "   —  " if t.position is None else f"{t.position:+.2f}"
            inten = "—" if t.intensity is None else f"{t.intensity:.2f}"
            print(f"  {t.id[:8]}  {pos}  intensity {inten}  {t.name}  ({t.axis_a} ↔ {t.axis_b})")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    name = args.name.strip()
    if not name:
        raise CliError("A tension needs a name; nothing was added.")
    if len(name) > TENSION_NAME_MAX:
        raise CliError(f"A tension's name must be at most {TENSION_NAME_MAX} characters (it has {len(name)}); nothing was added.")
    a, b = (p.strip() for p in args.poles)
    if not a or not b:
        raise CliError("Both poles need words, for example --poles Control Surrender; nothing was added.")
    with open_journal(args) as storage:
        svc = TensionService(storage)
        svc.ensure_seeds(_engine_mode(args))
        axis_id = None
        if args.axis:
            axis = svc.find_axis(args.axis)
            if axis is None:
                known = ", ".join(x.name for x in svc.list_axes()) or "none yet"
                raise CliError(f"No axis is named {args.axis!r} (axes: {known}); nothing was added.")
            axis_id = axis.id
        t = svc.create_tension(name, a, b, axis_id=axis_id)
    if args.json:
        print_json(tension_to_json(t))
    else:
        print(t.id)
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    position = _number(args.position, "--position", -1.0, 1.0)
    intensity = _number(args.intensity, "--intensity", 0.0, 1.0)
    if position is None and intensity is None:
        raise CliError("Give --position (-1 to 1) or --intensity (0 to 1); nothing was changed.")
    with open_journal(args) as storage:
        svc = TensionService(storage)
        t = _resolve(svc, args.id)
        result = svc.move_tension(t.id, position=position, intensity=intensity)
    after: Any = result.after
    if args.json:
        print_json(tension_to_json(after))
    elif result.changed:
        print(f"{after.name}: position {after.position:+.2f}, intensity {after.intensity:.2f}")
    else:
        print(f"{after.name} is already there; nothing was changed.")
    return 0
