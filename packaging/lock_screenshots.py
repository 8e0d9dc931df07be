"""Renders the lock screen and File → Encrypt journal… to docs/lock-screen.png and docs/encrypt-dialog.png.

``QT_QPA_PLATFORM=offscreen python packaging/lock_screenshots.py [--theme dark]`` (dark writes the
``-dark`` variants). The path shown is a typical Linux user's, not the machine's they were made on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from mirror_desktop.ui.lock.encrypt_dialog import EncryptDialog
from mirror_desktop.ui.lock.lock_screen import LockScreen
from mirror_desktop.ui.theme import apply_theme

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--theme", default="light", choices=("light", "dark"))
    p.add_argument("--out", type=Path, default=DOCS)
    args = p.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(args.theme, app)  # type: ignore[arg-type]
    suffix = "" if args.theme == "light" else "-dark"
    screen = LockScreen("mirror_os.db")
    screen.resize(1280, 800)
    screen.show()
    screen.show_error("The passphrase does not open the journal /home/me/.local/share/Mirror/mirror_os.db; "
                      "nothing was changed, try again.")
    app.processEvents()
    screen.grab().save(str(args.out / f"lock-screen{suffix}.png"))
    dialog = EncryptDialog()
    dialog.first.setText("river stones and quiet")
    dialog.second.setText("river stones and quiet")
    dialog.keep.setChecked(True)
    dialog.show()
    app.processEvents()
    dialog.adjustSize()
    app.processEvents()
    dialog.grab().save(str(args.out / f"encrypt-dialog{suffix}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
