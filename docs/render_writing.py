"""Render issue 16's views to docs/, light and dark: calendar, statistics, the window with On This Day
and the tag browser (through `mirror-desktop --view … --screenshot`), and the template picker.

    python docs/render_writing.py [JOURNAL_DIR]

Without a folder, a journal of 1,500 reflections ending today is generated (benchmarks/generate.py),
so the month shown has writing in it and earlier years have entries on today's date. The window
pictures are the real window with the theme set in that journal's settings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp) / "journal"
        if len(sys.argv) <= 1:
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--data-dir", str(journal),
                            "--reflections", "1500", "--end", "today"], check=True, env=env, stdout=subprocess.DEVNULL)
        work = Path(tmp) / "copy"
        shutil.copytree(journal, work, ignore=shutil.ignore_patterns("*.lock"))
        from mirror_desktop.paths import AppPaths

        settings = AppPaths.resolve(str(work)).settings_file
        settings.parent.mkdir(parents=True, exist_ok=True)
        for theme in ("light", "dark"):
            settings.write_text(f"[General]\ntheme={theme}\nwelcome_shown=true\n")
            for view, stem in (("calendar", "calendar"), ("stats", "stats"), ("reflections", "window-writing")):
                name = f"{stem}{'-dark' if theme == 'dark' else ''}.png"
                subprocess.run([sys.executable, "-m", "mirror_desktop", "--data-dir", str(work), "--view", view,
                                "--screenshot", str(HERE / name)], check=True, env=env)
                print(HERE / name)
    for theme in ("light", "dark"):
        subprocess.run([sys.executable, __file__, "--picker", theme], check=True, env=env)


def render_picker(theme: str) -> None:
    """The Ctrl+Shift+N dialog with the built-in templates, on its own (it needs no journal)."""
    from PySide6.QtWidgets import QApplication

    from mirror_desktop.core.templates import BUILTIN_TEMPLATES, TemplateInfo
    from mirror_desktop.ui.theme import apply_theme
    from mirror_desktop.ui.writing.templates import TemplatePicker

    app = QApplication.instance() or QApplication([])
    apply_theme(theme, app)  # type: ignore[arg-type]
    picker = TemplatePicker([TemplateInfo(n, b, True) for n, b in BUILTIN_TEMPLATES]
                            + [TemplateInfo("morning pages", "What woke me up?\n\n\nWhat is already on my mind?\n", False)])
    picker.list.setCurrentRow(1)
    picker.show()
    app.processEvents()
    name = HERE / f"templates{'-dark' if theme == 'dark' else ''}.png"
    picker.grab().save(str(name))
    print(name)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--picker":
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        render_picker(sys.argv[2])
    else:
        main()
