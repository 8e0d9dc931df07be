"""Where Mirror keeps things: AppPaths from platformdirs with one --data-dir override, injected, never global."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Mirror"
APP_AUTHOR = "Mirror"
DB_FILENAME = "mirror_os.db"


@dataclass(frozen=True)
class AppPaths:
    """The folders of one Mirror installation; tests and --data-dir point them anywhere."""

    data_dir: Path
    config_dir: Path
    log_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / DB_FILENAME

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.ini"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @classmethod
    def resolve(cls, data_dir: str | Path | None = None) -> AppPaths:
        """``--data-dir`` wins, then ``MIRROR_DATA_DIR``, then the platform's user data folder.

        With an override, config and logs live inside it too, so one folder holds a whole journal.
        """
        override = data_dir or os.environ.get("MIRROR_DATA_DIR")
        if override:
            root = Path(override).expanduser().resolve()
            return cls(root, root / "config", root / "logs")
        return cls(
            Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)),
            Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)),
            Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR)),
        )
