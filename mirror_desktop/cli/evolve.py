"""`mirror evolve`: the evolution loop from the command line (issue 17, item 8).

config, propose, list, show, history, test, approve, reject, apply, rollback, verify, plus draft
(proposals from repeated feedback flags), fork, merge, consent and would-share (what would be shared).
Every refusal is one sentence on stderr, exit 2, with the configuration and history as they were.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mirror_desktop.cli.main import CliError, open_journal, print_json


def register(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("evolve", help="the engine's versioned configuration: propose, test, apply, roll back",
                        description="Proposals that change the offline engine's configuration or the constitution, "
                                    "tested in a sandbox, approved by you, applied and rolled back.")
    es = ev.add_subparsers(dest="evolve_command", metavar="ACTION", required=True)

    def add(name: str, func: Any, help_: str, *, json_flag: bool = False) -> argparse.ArgumentParser:
        p = es.add_parser(name, help=help_)
        if json_flag:
            p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(func=func)
        return p

    add("config", cmd_config, "the configuration document, with config_version", json_flag=True)
    pp = add("propose", cmd_propose, "save a proposal (a draft) and print its id", json_flag=True)
    pp.add_argument("--type", required=True, metavar="TYPE", dest="ptype",
                    help="prompt_adjustment, pattern_detection, tension_heuristic, constitutional_amendment, "
                         "safety_refinement or performance_optimization")
    pp.add_argument("--title", required=True, metavar="T")
    pp.add_argument("--description", required=True, metavar="D")
    pp.add_argument("--changes", required=True, metavar="FILE",
                    help='JSON: {"type", "patch": [JSON Patch operations], "expected_impact"}, or for an amendment '
                         '{"type", "file", "before", "after", "expected_impact"}')
    lp = add("list", cmd_list, "proposals by status", json_flag=True)
    lp.add_argument("--status", metavar="STATUS")
    sp = add("show", cmd_show, "one proposal in full", json_flag=True)
    sp.add_argument("id", metavar="ID")
    add("history", cmd_history, "what was applied, rolled back, forked or merged", json_flag=True)
    tp = add("test", cmd_test, "run the sandbox on the probe set and your last 200 reflections", json_flag=True)
    tp.add_argument("id", metavar="ID")
    for name, func in (("approve", cmd_approve), ("reject", cmd_reject)):
        p = add(name, func, f"{name} a tested proposal (your vote)")
        p.add_argument("id", metavar="ID")
        p.add_argument("--note", metavar="N")
    ap = add("apply", cmd_apply, "apply an approved proposal (the config version goes up)")
    ap.add_argument("id", metavar="ID")
    rp = add("rollback", cmd_rollback, "undo the newest apply, or go back to a version")
    rp.add_argument("--to", metavar="VERSION")
    add("verify", cmd_verify, "check every event's and history row's signature", json_flag=True)
    add("draft", cmd_draft, "draft proposals from repeated feedback flags", json_flag=True)
    fp = add("fork", cmd_fork, "export this configuration as a named variant")
    fp.add_argument("name", metavar="NAME")
    fp.add_argument("--out", metavar="FILE", required=True)
    fp.add_argument("--reason", metavar="TEXT")
    mp = add("merge", cmd_merge, "adopt the proposals in another journal's bundle as drafts", json_flag=True)
    mp.add_argument("bundle", metavar="BUNDLE")
    mp.add_argument("--passphrase-file", metavar="F")
    cp = add("consent", cmd_consent, "share telemetry (pattern counts, never content): all new events, or one row")
    cp.add_argument("choice", choices=("on", "off"))
    cp.add_argument("--table", choices=("engine_runs", "engine_feedback", "evolution_events"))
    cp.add_argument("--id", metavar="ID")
    add("would-share", cmd_shared, "what would be shared: the sync_summary aggregates, exactly", json_flag=True)


def _service(storage: Any) -> Any:
    from mirror_desktop.core.evolution import EvolutionService

    return EvolutionService(storage)


def _proposal_json(p: Any) -> dict[str, Any]:
    data = asdict(p)
    for k in ("created_at", "approved_at", "applied_at"):
        if data.get(k) is not None:
            data[k] = data[k].isoformat()
    data["proposal_type"] = str(p.proposal_type)
    data["status"] = str(p.status)
    return data


def _history_json(h: Any) -> dict[str, Any]:
    meta = dict(h.metadata or {})
    return {"id": h.id, "evolution_id": h.evolution_id, "event_type": str(h.event_type),
            "from_version": h.from_version, "to_version": h.to_version, "applied_at": h.applied_at.isoformat(),
            "applied_by": h.applied_by, "reversible": h.reversible,
            "metadata": {k: v for k, v in meta.items() if k not in ("config", "previous_config")}}


def cmd_config(args: argparse.Namespace) -> int:
    with open_journal(args) as storage:
        doc = _service(storage).document()
    if args.json:
        print_json(doc)
    else:
        import json

        print(json.dumps(doc, indent=2, ensure_ascii=False))
    return 0


def cmd_propose(args: argparse.Namespace) -> int:
    from mirror_desktop.core.evolution import load_changes_file

    changes = load_changes_file(args.changes)
    with open_journal(args) as storage:
        p = _service(storage).propose(args.ptype, args.title, args.description, changes)
    if args.json:
        print_json({"id": p.id})
    else:
        print(p.id)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with open_journal(args, read_only_ok=True) as storage:
        rows = _service(storage).proposals(args.status)
    if args.json:
        print_json([{"id": p.id, "proposal_type": str(p.proposal_type), "status": str(p.status), "title": p.title,
                     "from_version": p.from_version, "to_version": p.to_version,
                     "created_at": p.created_at.isoformat()} for p in rows])
        return 0
    if not rows:
        print("No proposals yet; `mirror evolve propose` or `mirror evolve draft` makes one.")
    for p in rows:
        print(f"{p.id}  {str(p.status):9}  {str(p.proposal_type):25}  {p.title}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_journal(args, read_only_ok=True) as storage:
        p = _service(storage).get(args.id)
    data = _proposal_json(p)
    if args.json:
        print_json(data)
    else:
        import json

        print(json.dumps(data, indent=2, ensure_ascii=False))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    with open_journal(args, read_only_ok=True) as storage:
        rows = _service(storage).history()
    if args.json:
        print_json([_history_json(h) for h in rows])
        return 0
    if not rows:
        print("No history yet: nothing has been applied.")
    for h in rows:
        arrow = f"{h.from_version or '-'} → {h.to_version or '-'}"
        print(f"{h.applied_at:%Y-%m-%d %H:%M}  {str(h.event_type):9}  {arrow:17}  {h.evolution_id}  "
              f"{'reversible' if h.reversible else ''}".rstrip())
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    with open_journal(args) as storage:
        p = _service(storage).test(args.id)
    tr = p.test_results or {}
    if args.json:
        print_json(tr)
        return 0
    ck = tr.get("checker", {})
    print(f"Tested {p.id} ({tr.get('config_version_before')} → {tr.get('config_version_after')}), now {p.status}.")
    print(f"  checker catch rate on advice: {ck.get('catch_rate_before')} → {ck.get('catch_rate_after')}; "
          f"advice through after: {ck.get('advice_through_after')}")
    ds = tr.get("directive_scores", {})
    print(f"  directive score (mean): {ds.get('mean_before')} → {ds.get('mean_after')}")
    j = tr.get("journal", {})
    print(f"  your last {j.get('mirrorbacks_considered')} reflections: {j.get('would_change')} would get a different mirrorback")
    for name, pr in (tr.get("patterns") or {}).items():
        b, a = pr["before"], pr["after"]
        if b != a:
            print(f"  {name}: precision {b['precision']} → {a['precision']}, recall {b['recall']} → {a['recall']}")
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    with open_journal(args) as storage:
        p = _service(storage).approve(args.id, args.note)
    print(f"Approved {p.id}; `mirror evolve apply {p.id}` puts it into effect.")
    return 0


def cmd_reject(args: argparse.Namespace) -> int:
    with open_journal(args) as storage:
        p = _service(storage).reject(args.id, args.note)
    print(f"Rejected {p.id}.")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    with open_journal(args) as storage:
        row = _service(storage).apply(args.id)
    print(f"Applied {args.id}: the engine configuration is now {row.to_version} (was {row.from_version}); "
          "`mirror evolve rollback` undoes it.")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    with open_journal(args) as storage:
        row = _service(storage).rollback(args.to)
    print(f"Rolled back: the engine configuration is now {row.to_version} (was {row.from_version}).")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from mirror_desktop.core.lifecycle import verify

    with open_journal(args, read_only_ok=True) as storage:
        report = verify(storage)
    if args.json:
        print_json(report.to_json())
    else:
        print(f"Checked {report.checked_events} events and {report.checked_history} history rows: "
              f"{len(report.failures)} failed, {len(report.unsigned)} unsigned (written before signing).")
    if report.failures:
        for f in report.failures:
            print(f"mirror: {f['table']} row {f['id']} ({f['event_type']}) fails: {f['reason']}.", file=sys.stderr)
        return 2
    return 0


def cmd_draft(args: argparse.Namespace) -> int:
    with open_journal(args) as storage:
        made = _service(storage).draft_from_feedback()
    if args.json:
        print_json([{"id": p.id, "title": p.title, "evidence": p.evidence} for p in made])
    elif not made:
        print("No flag has repeated often enough to draft a proposal (3 of the same flag).")
    for p in made if not args.json else ():
        print(f"{p.id}  {p.title}  ({(p.evidence or {}).get('count')} flags)")
    return 0


def cmd_fork(args: argparse.Namespace) -> int:
    with open_journal(args) as storage:
        row, variant = _service(storage).fork(args.name, Path(args.out), reason=args.reason)
    print(f"Forked configuration {variant['base_version']} as {args.name} into {args.out}.")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    import json

    from mirror_desktop.bundle.importer import prepare_import
    from mirror_desktop.paths import AppPaths

    passphrase = None
    if args.passphrase_file:
        passphrase = Path(args.passphrase_file).read_text("utf-8").strip()
    paths = AppPaths.resolve(args.data_dir)
    prepared = prepare_import(Path(args.bundle), paths, passphrase=passphrase)
    try:
        proposals = [json.loads(data) for name, data in sorted(prepared.evolution.items())
                     if name.startswith("evolution/proposals/")]
    finally:
        prepared.discard()
    with open_journal(args) as storage:
        made = _service(storage).merge(proposals, Path(args.bundle).name)
    if args.json:
        print_json([{"id": p.id, "title": p.title} for p in made])
    else:
        print(f"Adopted {len(made)} proposal(s) from {Path(args.bundle).name} as drafts to test here.")
    return 0


def cmd_consent(args: argparse.Namespace) -> int:
    from mirror_desktop.core.lifecycle import set_sync_allowed, set_telemetry_consent

    allowed = args.choice == "on"
    if (args.table is None) != (args.id is None):
        raise CliError("Give --table and --id together for one row, or neither for every new event.")
    with open_journal(args) as storage:
        if args.table:
            set_sync_allowed(storage, args.table, args.id, allowed)
            print(f"{args.table} row {args.id} is now {'shareable' if allowed else 'kept on this device'}.")
        else:
            set_telemetry_consent(storage, allowed)
            print("New lifecycle events will be " + ("shareable (counts only)." if allowed else "kept on this device."))
    return 0


def cmd_shared(args: argparse.Namespace) -> int:
    from mirror_desktop.core.outbound import sync_summary

    with open_journal(args, read_only_ok=True) as storage:
        summary = sync_summary(storage)
    print_json(summary)
    return 0
