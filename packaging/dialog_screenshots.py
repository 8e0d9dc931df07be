"""Renders the first-run welcome and the About dialog to docs/welcome.png and docs/about.png.

``QT_QPA_PLATFORM=offscreen python packaging/dialog_screenshots.py [--theme dark]``; the paths shown
are a typical Linux user's, so the pictures do not leak the machine they were made on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from mirror_desktop.paths import AppPaths
from mirror_desktop.ui.dialogs.about import AboutDialog
from mirror_desktop.ui.dialogs.welcome import WelcomeDialog
from mirror_desktop.ui.theme import apply_theme

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLE = AppPaths(Path("/home/sam/.local/share/Mirror"), Path("/home/sam/.config/Mirror"),
                   Path("/home/sam/.local/state/Mirror/log"))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--theme", default="light", choices=("light", "dark"))
    p.add_argument("--out", type=Path, default=DOCS)
    args = p.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(args.theme, app)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.theme == "light" else "-dark"
    for name, dialog in (("welcome", WelcomeDialog(EXAMPLE.data_dir)),
                         ("about", AboutDialog(EXAMPLE, open_url=lambda _u: True))):
        dialog.show()
        app.processEvents()
        target = args.out / f"{name}{suffix}.png"
        if not dialog.grab().save(str(target)):
            print(f"could not write {target}", file=sys.stderr)
            return 1
        print(target)
        dialog.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
