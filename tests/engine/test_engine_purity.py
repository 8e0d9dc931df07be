"""The engine is pure: importing and running it loads no Qt, no peewee and no storage code."""

import subprocess
import sys


def test_engine_imports_no_qt_peewee_or_storage():
    code = (
        "import sys\n"
        "from mirror_desktop.engine import MirrorCore\n"
        "import mirror_desktop.engine.llm, mirror_desktop.keychain\n"
        "MirrorCore().generate('I have to rest but part of me wants to work.')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'peewee', 'sqlite3')"
        " or m.startswith('mirror_desktop.storage')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_constitution_files_are_shipped_and_loaded():
    from mirror_desktop.engine import constitution_text

    text = constitution_text()
    for heading in ("# Mirror's constitution", "# Sovereignty", "# Reflection, not direction", "# Safety"):
        assert heading in text
