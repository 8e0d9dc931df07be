"""Engine settings: which engine writes mirrorbacks, kept as JSON in ``<config_dir>/engine.json``.

Only the EngineConfig fields that are not secrets live in the file; API keys go to the keychain
(``keychain.py``) or, when no secure keychain exists, stay in memory for this session only
(RELIABILITY.md, Secrets). The file is written atomically (temp file, fsync, rename) so a crash
never leaves half a configuration. A missing or damaged file means the offline rules engine, and
``problem`` says why, so the window and the CLI can tell the person in one sentence.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirror_desktop.core.safe_io import StrictJSONError, loads_strict, private_dir, write_bytes_atomically
from mirror_desktop.engine import EngineConfig, EngineConfigError, is_loopback
from mirror_desktop.engine.config import DEFAULT_URLS

if TYPE_CHECKING:
    from mirror_desktop.engine import MirrorCore
from mirror_desktop import keychain

FILENAME = "engine.json"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 64 * 1024
_KINDS = ("rules", "ollama", "openai")


@dataclass(frozen=True)
class EngineSettings:
    """The engine the person chose, and whether its telemetry may be shared (spec 8, ``sync_allowed``)."""

    config: EngineConfig = field(default_factory=EngineConfig)
    share_telemetry: bool = False

    def to_json(self) -> dict[str, Any]:
        c = self.config
        return {
            "format": FORMAT_VERSION,
            "kind": c.kind,
            "base_url": c.base_url,
            "model": c.model,
            "timeout_s": c.timeout_s,
            "remote_opt_in": c.remote_opt_in,
            "api_key_name": c.api_key_name,
            "crisis_resources": list(c.crisis_resources) if c.crisis_resources is not None else None,
            "crisis_country": c.crisis_country,
            "directive_threshold": c.directive_threshold,
            "share_telemetry": self.share_telemetry,
        }


def make_config(kind: str, *, base_url: str | None = None, model: str | None = None, timeout_s: float = 30.0,
                remote_opt_in: bool = False, api_key_name: str | None = None,
                crisis_resources: tuple[str, ...] | None = None,
                directive_threshold: float | None = None, crisis_country: str | None = None) -> EngineConfig:
    """An EngineConfig whose mode follows from the kind and where the URL points (never a label)."""
    if kind not in _KINDS:
        raise EngineConfigError(f"Unknown engine kind {kind!r}; use rules, ollama or openai.")
    if crisis_country is not None and crisis_country not in crisis_countries():
        raise EngineConfigError(f"Mirror has no help lines for the country {crisis_country!r}; choose one of the list, "
                                "or none for the international ones.")
    if kind == "rules":
        return EngineConfig(crisis_resources=crisis_resources, directive_threshold=directive_threshold,
                            crisis_country=crisis_country)
    probe = EngineConfig(mode="local_llm", kind=kind, base_url=(base_url or None), model=model)  # type: ignore[arg-type]
    return EngineConfig(
        mode=probe.effective_mode, kind=kind, base_url=(base_url or "").strip() or None,  # type: ignore[arg-type]
        model=(model or "").strip() or None, timeout_s=float(timeout_s), remote_opt_in=bool(remote_opt_in),
        api_key_name=api_key_name, crisis_resources=crisis_resources, directive_threshold=directive_threshold,
        crisis_country=crisis_country,
    )


def crisis_countries() -> list[str]:
    """The countries (ISO 3166 codes) whose help lines the crisis reply can show (resources/engine)."""
    from mirror_desktop.resources import resource

    try:
        data = json.loads(resource("engine", "crisis_resources.json").read_text("utf-8"))
        return [str(code) for code in data.get("countries", {})]
    except (OSError, ValueError, AttributeError):
        return []


def settings_from_json(data: Any) -> EngineSettings:
    """Parse the file's object; raises EngineConfigError with one sentence when it is not usable."""
    if not isinstance(data, dict):
        raise EngineConfigError("The engine settings file is not a JSON object.")
    kind = data.get("kind", "rules")
    timeout = data.get("timeout_s", 30.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise EngineConfigError("The engine timeout in the settings file is not a number.")
    resources = data.get("crisis_resources")
    if resources is not None and not (isinstance(resources, list) and all(isinstance(r, str) for r in resources)):
        raise EngineConfigError("The crisis resources in the engine settings file must be a list of text lines.")
    threshold = data.get("directive_threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
        raise EngineConfigError("The directive threshold in the engine settings file is not a number.")
    country = data.get("crisis_country")
    if country is not None and not isinstance(country, str):
        raise EngineConfigError("The crisis country in the engine settings file must be a country code like GB.")
    for key in ("base_url", "model", "api_key_name"):
        if data.get(key) is not None and not isinstance(data.get(key), str):
            raise EngineConfigError(f"The {key} in the engine settings file must be text.")
    config = make_config(
        str(kind), base_url=data.get("base_url"), model=data.get("model"), timeout_s=float(timeout),
        remote_opt_in=data.get("remote_opt_in") is True, api_key_name=data.get("api_key_name"),
        crisis_resources=tuple(resources) if resources is not None else None,
        directive_threshold=float(threshold) if threshold is not None else None,
        crisis_country=country,
    )
    config.validate()
    return EngineSettings(config, share_telemetry=data.get("share_telemetry") is True)


def engine_mode(config_dir: Path | str) -> str:
    """The mode (manual, local_llm, remote_llm) of the engine the person chose; a journal's installation records it."""
    return EngineSettingsStore(config_dir).load().config.effective_mode


class EngineSettingsStore:
    """Reads and writes ``engine.json``; holds this session's API keys when no keychain can keep them.

    Thread-safe: the window reads it from worker threads (engine creation) and writes it from the
    settings dialog's background save.
    """

    def __init__(self, config_dir: Path | str) -> None:
        self.path = Path(config_dir) / FILENAME
        self.problem: str | None = None        # why the last load fell back to the rules engine
        self._session_keys: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- the file --------------------------------------------------------------------------
    def load(self) -> EngineSettings:
        """The saved settings; the rules engine (and ``problem`` set) when the file is missing or bad."""
        self.problem = None
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return EngineSettings()
        except OSError as exc:
            self.problem = f"The engine settings could not be read ({exc.strerror}); using the built-in engine."
            return EngineSettings()
        try:
            if len(raw) > MAX_FILE_BYTES:
                raise EngineConfigError("The engine settings file is too large.")
            return settings_from_json(loads_strict(raw))
        except StrictJSONError:
            self.problem = f"The engine settings file {self.path} is damaged; using the built-in engine until you save settings again."
        except EngineConfigError as exc:
            self.problem = f"{exc} Using the built-in engine until you change the engine settings."
        return EngineSettings()

    def save(self, settings: EngineSettings) -> None:
        """Validate, then write atomically: a temp file in the same folder, fsync, rename."""
        settings.config.validate()
        data = json.dumps(settings.to_json(), indent=2, ensure_ascii=False).encode("utf-8")
        with self._lock:
            private_dir(self.path.parent)
            write_bytes_atomically(self.path, data)
        self.problem = None

    # -- API keys --------------------------------------------------------------------------
    @staticmethod
    def keychain_available() -> bool:
        """Whether a secure keychain can keep an API key (not the fail/null/plaintext backends)."""
        return keychain.secure_backend() is not None

    def set_api_key(self, name: str, key: str | None, *, session_only: bool = False) -> str:
        """Keep ``key`` for engine ``name``: ``"keychain"`` or ``"session"`` says where it went.

        Never writes the key to a file. ``None`` or an empty key forgets it everywhere.
        """
        if not key:
            self._session_keys.pop(name, None)
            keychain.delete_api_key(name)
            return "none"
        if session_only:
            self._session_keys[name] = key
            return "session"
        keychain.store_api_key(name, key)  # raises KeychainUnavailable: nothing stored
        self._session_keys.pop(name, None)
        return "keychain"

    def api_key(self, name: str | None) -> str | None:
        """The key for ``name``: this session's key first, then the keychain's."""
        if not name:
            return None
        return self._session_keys.get(name) or keychain.load_api_key(name)

    # -- engines ---------------------------------------------------------------------------
    def make_engine(self, settings: EngineSettings | None = None) -> MirrorCore:
        """A MirrorCore for the saved settings (with its API key); raises EngineConfigError if refused."""
        settings = settings or self.load()
        config = settings.config
        key = self.api_key(config.api_key_name) if config.kind != "rules" else None
        from mirror_desktop.engine import MirrorCore  # loads the engine on first use (issue 12)

        return MirrorCore(config, api_key=key)

    def engine_factory(self) -> EngineFactory:
        """A callable the MirrorbackService uses: it reads the file anew each time, so a saved change counts."""
        return EngineFactory(self)


class EngineFactory:
    """Builds the configured engine on demand; ``settings`` is what the last build used."""

    def __init__(self, store: EngineSettingsStore) -> None:
        self.store = store
        self.settings = EngineSettings()

    def __call__(self) -> MirrorCore:
        self.settings = self.store.load()
        return self.store.make_engine(self.settings)

    @property
    def share_telemetry(self) -> bool:
        return self.settings.share_telemetry


__all__ = ["EngineFactory", "EngineSettings", "EngineSettingsStore", "make_config", "settings_from_json",
           "FILENAME"]


# -- what the settings dialog asks (the window reaches the engine only through core) -------------------

def default_url(kind: str) -> str:
    """The address an engine kind uses when the person gives none ("" for the built-in engine)."""
    return DEFAULT_URLS.get(kind, "")


def is_remote(url: str) -> bool:
    """True when ``url`` is not this computer, so reflections would leave the device."""
    return not is_loopback(url)


def check_connection(config: EngineConfig, api_key: str | None) -> Any:
    """Ask the configured server whether it answers and has the model (a Health: ok, message, models)."""
    from mirror_desktop.engine import MirrorCore

    return MirrorCore(config, api_key=api_key).health_check()
