"""`mirror export-to`: leave with your writing as Markdown, Day One JSON, HTML or PDF (issue 15).

    mirror export-to markdown|json|html|pdf --out DIR [--identity ID] [--since YYYY-MM-DD] [--until YYYY-MM-DD]

Reads the journal only. Every refusal (a bad date, --since after --until, an unknown identity, an
out folder that is a file, holds files or cannot be written) is one sentence and exit 2, before
anything is written. The Qt-free formats never load Qt; PDF starts an offscreen QGuiApplication
(mirror_desktop.render) for QTextDocument and QPdfWriter.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mirror_desktop.cli.main import open_journal, print_json

FORMATS = ("markdown", "json", "html", "pdf")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-to", help="export one identity's reflections as Markdown, Day One JSON, HTML or PDF",
        description="Write one identity's reflections (oldest first) to a new or empty folder: markdown (one .md "
                    "file per reflection with YAML front matter, attachments beside; opens as an Obsidian vault), "
                    "json (Day One's export shape, with a zip Day One imports), html (one self-contained page) "
                    "or pdf (a printable book, dates as headings). Without --identity: the journal's only "
                    "identity, or Anonymous when it has none; with several, choose one.")
    p.add_argument("format", choices=FORMATS, metavar="FORMAT", help="markdown, json, html or pdf")
    p.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder to write into")
    p.add_argument("--identity", metavar="ID", help="the identity to export: a name, an id, or Anonymous")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="the first day to include (local time)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="the last day to include (local time)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=cmd_export_to)


def cmd_export_to(args: argparse.Namespace) -> int:
    from mirror_desktop.exports.common import ExportRequest, parse_day, record_export, run_export, validate_request

    req = ExportRequest(args.format, Path(args.out).expanduser(), args.identity,
                        parse_day(args.since, "--since"), parse_day(args.until, "--until"))
    validate_request(req)
    app = None
    if req.fmt == "pdf":
        from mirror_desktop.render.pdf import offscreen_app

        app = offscreen_app()
    storage = open_journal(args, read_only_ok=True)
    try:
        result = run_export(storage, req)
        if not getattr(storage, "readonly", False):
            record_export(storage, result)
    finally:
        storage.close()
        del app
    if args.json:
        print_json(result.as_json())
    else:
        print(result.sentence())
    sys.stdout.flush()
    return 0
