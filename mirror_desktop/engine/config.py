"""EngineConfig: which engine writes mirrorbacks, where it lives, and the consent a remote one needs."""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

ENGINE_VERSION = "1.0.0"
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")

EngineMode = Literal["manual", "local_llm", "remote_llm"]
EngineKind = Literal["rules", "ollama", "openai"]

DEFAULT_URLS = {"ollama": "http://127.0.0.1:11434", "openai": "http://127.0.0.1:8080"}


class EngineConfigError(ValueError):
    """An engine configuration that cannot be used; the message says what to change."""


class RemoteEngineRefused(EngineConfigError):
    """A remote engine was configured without the writer's explicit opt-in."""


# How long a name's resolution is trusted: long enough that one mirrorback resolves once, short
# enough that a changed hosts file or DNS answer counts soon.
_RESOLVE_TTL_S = 30.0
_resolved: dict[str, tuple[float, bool]] = {}
_resolved_lock = threading.Lock()


def _resolves_to_loopback(host: str) -> bool:
    """Whether every address ``host`` resolves to is a loopback address (False if it does not resolve)."""
    now = time.monotonic()
    with _resolved_lock:
        hit = _resolved.get(host)
    if hit is not None and now - hit[0] < _RESOLVE_TTL_S:
        return hit[1]
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        addresses = {str(info[4][0]).split("%")[0] for info in infos}
        loopback = bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)
    except (OSError, UnicodeError, ValueError):
        loopback = False
    with _resolved_lock:
        _resolved[host] = (now, loopback)
    return loopback


def is_loopback(base_url: str) -> bool:
    """Whether ``base_url`` points at this machine (127.0.0.0/8, ::1, or a localhost name that resolves there).

    ``localhost`` and ``*.localhost`` are names, not addresses: a hosts file or a resolver can send
    them anywhere, so they count as local only when every address they resolve to is loopback
    (issue 11, item 7). Any other name is remote, whatever it resolves to.
    """
    host = (urlsplit(base_url).hostname or "").rstrip(".")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host == "localhost" or host.endswith(".localhost"):
        return _resolves_to_loopback(host)
    return False


@dataclass(frozen=True)
class EngineTuning:
    """A journal's versioned engine configuration as the rules engine reads it (issue 17).

    Built by core/evolution.py from the journal's config document (``config_version``, phrases per
    pattern, the checker's threshold, reply length, templates, tension cues) and the journal's own
    constitution; every field defaults to "what is built in". Tuples keep it hashable and frozen.
    """

    version: str = ENGINE_VERSION
    extra_phrases: tuple[tuple[str, tuple[str, ...]], ...] = ()      # (pattern name, lowercase phrases)
    directive_threshold: float | None = None
    max_sentences: int | None = None
    templates: tuple[tuple[str, str], ...] = ()                      # (pattern name, sentence noting it)
    extra_oppositions: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = ()
    rules_json: str | None = None        # the journal's constitution/rules.json; None: the shipped one
    constitution: str | None = None      # the journal's constitution pages joined (an LLM's system prompt)


@dataclass(frozen=True)
class EngineConfig:
    """How mirrorbacks are made. The rules engine (``manual``) needs nothing else."""

    mode: EngineMode = "manual"
    kind: EngineKind = "rules"
    base_url: str | None = None
    model: str | None = None
    timeout_s: float = 30.0
    remote_opt_in: bool = False
    version: str = ENGINE_VERSION
    api_key_name: str | None = None          # keyring username is "engine:<api_key_name>"
    crisis_resources: tuple[str, ...] | None = None   # None: the country's list, else the one in rules.json
    crisis_country: str | None = None                 # ISO 3166 code ("GB", "DE"): help lines for that country
    directive_threshold: float | None = None          # None: the threshold in rules.json
    tuning: EngineTuning | None = None                # the journal's versioned configuration (issue 17)

    @property
    def url(self) -> str:
        """The base URL, or the usual local default for the kind."""
        return (self.base_url or DEFAULT_URLS.get(self.kind, "")).rstrip("/")

    @property
    def effective_mode(self) -> EngineMode:
        """``manual`` for rules; otherwise decided by the host, not by the label."""
        if self.kind == "rules":
            return "manual"
        return "local_llm" if is_loopback(self.url) else "remote_llm"

    def validate(self) -> None:
        """Raise EngineConfigError (or RemoteEngineRefused) if this configuration must not run."""
        if not _VERSION_RE.match(self.version):
            raise EngineConfigError(f"Engine version {self.version!r} is not MAJOR.MINOR.PATCH.")
        if self.kind not in ("rules", "ollama", "openai"):
            raise EngineConfigError(f"Unknown engine kind {self.kind!r}; use rules, ollama or openai.")
        if self.mode not in ("manual", "local_llm", "remote_llm"):
            raise EngineConfigError(f"Unknown engine mode {self.mode!r}.")
        if self.kind == "rules":
            if self.mode != "manual":
                raise EngineConfigError("The rules engine runs in 'manual' mode only.")
            return
        if self.mode == "manual":
            raise EngineConfigError(f"The {self.kind} engine needs mode 'local_llm' or 'remote_llm'.")
        if not self.model:
            raise EngineConfigError(f"Choose a model for the {self.kind} engine.")
        if not self.timeout_s or self.timeout_s <= 0:
            raise EngineConfigError("The engine timeout must be a positive number of seconds.")
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise EngineConfigError(f"The engine address {self.url!r} must start with http:// or https://.")
        # Consent is decided by where the text goes, so a remote host labelled local is refused too.
        if self.effective_mode == "remote_llm" and not self.remote_opt_in:
            raise RemoteEngineRefused(
                f"{urlsplit(self.url).hostname} is not this computer: your reflection text would "
                "leave the device. Turn on remote engines in settings if you want that."
            )
