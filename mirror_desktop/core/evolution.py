"""The evolution loop (spec 10–11, issue 17): a versioned engine configuration, proposals, a sandbox, apply and roll back.

One JSON document per journal tunes the offline engine: extra phrases per pattern
(``/patterns/<name>/phrases``), tension cues, composer templates, the checker's directive threshold
(``/checker/directive_threshold``) and the reply's length, with a ``config_version``
(MAJOR.MINOR.PATCH). Built-in defaults lie underneath. The document is not a table of its own: every
``evolution_history`` row that changes it carries the whole document it produced and the one before
(``metadata.config`` / ``metadata.previous_config``), signed (core/lifecycle.py), so the history *is*
the configuration's store: append-only, exported in bundles, and a rollback restores the previous
document exactly. The current document is the newest verified row not undone by a later rollback.

A proposal's ``changes`` is ``{"type", "patch": [RFC 6902 operations], "expected_impact"}``, or for a
``constitutional_amendment`` ``{"type", "file", "before", "after", "expected_impact"}`` over one file
of the journal's ``constitution/`` folder. The flow is the spec's; the person is the only voter.
Testing runs the proposed configuration in a sandbox (no database writes) on the built-in probe set
and the person's last 200 reflections; results hold numbers, pattern names and probe examples, never
the person's words (proposals are public by default, core/outbound.py).
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from mirror_desktop.core import lifecycle
from mirror_desktop.core import models as m
from mirror_desktop.core.enums import HistoryEventType, LifecycleEventType, ProposalStatus, ProposalType
from mirror_desktop.core.errors import MirrorError
from mirror_desktop.core.models import utc_now
from mirror_desktop.core.safe_io import StrictJSONError, loads_strict, private_dir, write_bytes_atomically
from mirror_desktop.engine import ENGINE_VERSION, EngineTuning

BASE_VERSION = ENGINE_VERSION
MAX_PROPOSAL_BYTES = 1024 * 1024          # a proposal file is a few hundred bytes; 1 MB is generous
MAX_PHRASES = 200
MAX_PHRASE_CHARS = 80
MAX_TEMPLATE_CHARS = 300
JOURNAL_SAMPLE = 200                      # "their last 200 mirrorbacks"
CONFIG_EVENTS = (HistoryEventType.UPGRADE.value, HistoryEventType.ROLLBACK.value, HistoryEventType.DOWNGRADE.value,
                 HistoryEventType.HOTFIX.value)
CONFIG_TYPES = tuple(t.value for t in ProposalType if t is not ProposalType.CONSTITUTIONAL_AMENDMENT)
CONSTITUTION_NAMES = ("00_manifesto.md", "01_sovereignty.md", "02_reflection.md", "03_safety.md", "rules.json")
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
# Feedback flags that draft a proposal once they repeat (spec 9 names; "directive" and "missed_pattern" too).
DRAFT_MIN_FLAGS = 3
_DRAFTABLE = {"too_directive": "directive", "directive": "directive", "too_long": "too_long",
              "missed_pattern": "missed_pattern", "missed_tension": "missed_pattern"}


class EvolutionError(MirrorError):
    """A proposal, patch or step that cannot go ahead; the message says why and what to do."""


# -- the document ---------------------------------------------------------------------------------

def pattern_names() -> tuple[str, ...]:
    from mirror_desktop.engine.patterns import PATTERN_NAMES

    return PATTERN_NAMES


def builtin_document(ceiling: float = 0.15) -> dict[str, Any]:
    """The configuration with nothing added: what the engine does out of the box."""
    return {
        "config_version": BASE_VERSION,
        "patterns": {name: {"phrases": []} for name in pattern_names()},
        "tensions": {"cues": []},
        "composer": {"templates": {}},
        "checker": {"directive_threshold": ceiling},
        "reply": {"max_sentences": 4},
    }


def _err(sentence: str) -> EvolutionError:
    return EvolutionError(sentence)


def _words(value: Any, where: str, *, limit: int = MAX_PHRASES) -> list[str]:
    if not isinstance(value, list):
        raise _err(f"{where} must be a list of lowercase phrases; the config was not changed.")
    if len(value) > limit:
        raise _err(f"{where} holds {len(value)} phrases, more than {limit}; the config was not changed.")
    for p in value:
        if not isinstance(p, str) or not p.strip() or len(p) > MAX_PHRASE_CHARS:
            raise _err(f"Every phrase in {where} must be text of 1 to {MAX_PHRASE_CHARS} characters; "
                       "the config was not changed.")
        if p != p.lower():
            raise _err(f"The phrase {p!r} in {where} must be lowercase; the config was not changed.")
    return value


def validate_document(doc: Any) -> None:
    """Raise EvolutionError (one sentence) unless ``doc`` is a usable configuration."""
    if not isinstance(doc, dict):
        raise _err("The engine configuration must be a JSON object; the config was not changed.")
    allowed = {"config_version", "patterns", "tensions", "composer", "checker", "reply"}
    extra = sorted(set(doc) - allowed)
    if extra:
        raise _err(f"The engine configuration has no setting /{extra[0]}; the config was not changed.")
    if not isinstance(doc.get("config_version"), str) or not _SEMVER.match(doc["config_version"]):
        raise _err("config_version must be MAJOR.MINOR.PATCH; the config was not changed.")
    patterns = doc.get("patterns")
    if not isinstance(patterns, dict):
        raise _err("/patterns must be an object of pattern names; the config was not changed.")
    names = set(pattern_names())
    for name, body in patterns.items():
        if name not in names:
            raise _err(f"{name!r} is not a pattern the engine knows (one of {', '.join(sorted(names))}); "
                       "the config was not changed.")
        if not isinstance(body, dict) or set(body) != {"phrases"}:
            raise _err(f"/patterns/{name} must be {{\"phrases\": [...]}}; the config was not changed.")
        _words(body["phrases"], f"/patterns/{name}/phrases")
    tensions = doc.get("tensions")
    if not isinstance(tensions, dict) or set(tensions) != {"cues"} or not isinstance(tensions["cues"], list):
        raise _err("/tensions must be {\"cues\": [...]}; the config was not changed.")
    for i, cue in enumerate(tensions["cues"]):
        if not isinstance(cue, dict) or set(cue) != {"axis_a", "axis_b", "a", "b"} or not all(
                isinstance(cue[k], str) and cue[k].strip() for k in ("axis_a", "axis_b")):
            raise _err(f"/tensions/cues/{i} needs axis_a, axis_b (text) and a, b (phrase lists); "
                       "the config was not changed.")
        _words(cue["a"], f"/tensions/cues/{i}/a")
        _words(cue["b"], f"/tensions/cues/{i}/b")
    composer = doc.get("composer")
    if not isinstance(composer, dict) or set(composer) != {"templates"} or not isinstance(composer["templates"], dict):
        raise _err("/composer must be {\"templates\": {pattern: sentence}}; the config was not changed.")
    for name, text in composer["templates"].items():
        if name not in names:
            raise _err(f"/composer/templates/{name}: {name!r} is not a pattern the engine knows; "
                       "the config was not changed.")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEMPLATE_CHARS or "?" in text:
            raise _err(f"/composer/templates/{name} must be one sentence (no question) of at most "
                       f"{MAX_TEMPLATE_CHARS} characters; the config was not changed.")
    checker = doc.get("checker")
    if not isinstance(checker, dict) or set(checker) != {"directive_threshold"}:
        raise _err("/checker must be {\"directive_threshold\": number}; the config was not changed.")
    t = checker["directive_threshold"]
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t <= 1:
        raise _err("/checker/directive_threshold must be a number above 0 and at most 1; the config was not changed.")
    reply = doc.get("reply")
    if not isinstance(reply, dict) or set(reply) != {"max_sentences"}:
        raise _err("/reply must be {\"max_sentences\": whole number}; the config was not changed.")
    n = reply["max_sentences"]
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 6:
        raise _err("/reply/max_sentences must be a whole number from 1 to 6; the config was not changed.")


def tuning_from(doc: dict[str, Any], rules_json: str | None = None) -> EngineTuning:
    """What the rules engine reads from a configuration document."""
    return EngineTuning(
        version=str(doc["config_version"]),
        extra_phrases=tuple((name, tuple(p.lower() for p in body["phrases"]))
                            for name, body in doc["patterns"].items() if body["phrases"]),
        directive_threshold=float(doc["checker"]["directive_threshold"]),
        max_sentences=int(doc["reply"]["max_sentences"]),
        templates=tuple(sorted(doc["composer"]["templates"].items())),
        extra_oppositions=tuple((c["axis_a"], c["axis_b"], tuple(c["a"]), tuple(c["b"])) for c in doc["tensions"]["cues"]),
        rules_json=rules_json,
    )


def bump(version: str, part: str) -> str:
    match = _SEMVER.match(version)
    major, minor, patch = (int(g) for g in match.groups()) if match else (1, 0, 0)
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


# -- the journal's constitution -----------------------------------------------------------------------

def constitution_dir(storage: Any) -> Path | None:
    """The journal's own constitution/ folder (beside the journal file, where bundles restore it)."""
    path = getattr(storage, "path", None)
    if not path or str(path) == ":memory:":
        return None
    return Path(path).parent / "constitution"


def _principles(name: str, text: str) -> set[str]:
    """What counts as a principle: a heading or list item of a page; an entry of a rule list in rules.json."""
    if name.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError:
            return set()
        found: set[str] = set()
        for key in ("advice_phrases", "banned_phrases", "crisis_phrases", "imperative_verbs", "crisis_resources"):
            found.update(f"{key}:{v}" for v in data.get(key) or [] if isinstance(v, str))
        return found
    out = set()
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(("#", "- ", "* ")) or re.match(r"^\d+\.\s", s):
            out.add(" ".join(s.split()))
    return out


# -- results ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegressionFinding:
    """After an apply, the next mirrorbacks did worse than before it: the window offers the rollback."""

    history_id: str
    version: str
    before: dict[str, float]
    after: dict[str, float]
    reason: str


@dataclass(frozen=True)
class EvolutionSnapshot:
    """Everything the Evolution window lists, read in one job."""

    proposals: list[m.EvolutionProposal]
    history: list[m.EvolutionHistory]
    document: dict[str, Any]
    live: tuple[str, ...]          # ids of history rows in effect (the newest is the one Roll back undoes)
    consent: bool                  # new lifecycle events are shareable

    @property
    def version(self) -> str:
        return str(self.document.get("config_version"))


def _json_changes(raw: Any) -> Any:
    if isinstance(raw, (bytes, str)):
        if len(raw) > MAX_PROPOSAL_BYTES:
            raise _err(f"The proposal file is larger than {MAX_PROPOSAL_BYTES // 1024} KB, far more than a change "
                       "needs; nothing was saved.")
        try:
            return loads_strict(raw)
        except StrictJSONError as exc:
            raise _err(f"The proposal file is not valid JSON ({exc}); nothing was saved.") from None
    return raw


def load_changes_file(path: str | Path) -> Any:
    """A proposal's changes from a file, refusing one too large before reading it whole."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise _err(f"The proposal file {p} cannot be read ({exc.strerror}); nothing was saved.") from None
    if size > MAX_PROPOSAL_BYTES:
        raise _err(f"The proposal file is {size // (1024 * 1024)} MB, far more than a change needs "
                   f"(at most {MAX_PROPOSAL_BYTES // 1024} KB); nothing was saved.")
    with p.open("rb") as fh:
        return _json_changes(fh.read(MAX_PROPOSAL_BYTES + 1))


# -- the service --------------------------------------------------------------------------------------

class EvolutionService:
    """Configuration, proposals, sandbox, apply, rollback, fork and merge over one journal."""

    def __init__(self, storage: Any, *, constitution: Path | None = None) -> None:
        self.storage = storage
        self.constitution = constitution if constitution is not None else constitution_dir(storage)

    # -- the constitution ---------------------------------------------------------------------------
    def constitution_text(self, name: str) -> str:
        """A constitution file as the journal has it (its own folder first, else the shipped one)."""
        if name not in CONSTITUTION_NAMES:
            raise _err(f"{name!r} is not a constitution file; use one of {', '.join(CONSTITUTION_NAMES)}.")
        if self.constitution is not None and (self.constitution / name).is_file():
            return (self.constitution / name).read_text("utf-8")
        from mirror_desktop.resources import resource

        return resource("constitution", name).read_text("utf-8")

    def rules_json(self) -> str | None:
        """The journal's own rules.json when it has one (what the engine enforces), else None (shipped)."""
        if self.constitution is not None and (self.constitution / "rules.json").is_file():
            return (self.constitution / "rules.json").read_text("utf-8")
        return None

    def ceiling(self) -> float:
        """The constitution's directive threshold: no proposal may raise the checker's above it."""
        try:
            return float(json.loads(self.constitution_text("rules.json"))["directive_threshold"])
        except (ValueError, KeyError, TypeError, OSError):
            return 0.15

    # -- the configuration -------------------------------------------------------------------------
    def _config_rows(self) -> list[m.EvolutionHistory]:
        keys = lifecycle.known_keys(self.storage)
        rows = [r for r in self.storage.evolution_history.list()
                if str(r.event_type) in CONFIG_EVENTS and isinstance((r.metadata or {}).get("config"), dict)]
        rows = [r for r in rows if lifecycle.history_ok(r, keys)]
        rows.sort(key=lambda r: (int((r.metadata or {}).get("seq") or 0), r.applied_at))
        return rows

    def stack(self) -> list[m.EvolutionHistory]:
        """The applied rows still in effect, oldest first (rollbacks and downgrades pop what they undid)."""
        live: list[m.EvolutionHistory] = []
        for row in self._config_rows():
            undoes = (row.metadata or {}).get("undoes") or []
            if str(row.event_type) in (HistoryEventType.ROLLBACK.value, HistoryEventType.DOWNGRADE.value):
                live = [r for r in live if r.id not in undoes]
            else:
                live.append(row)
        return live

    def document(self) -> dict[str, Any]:
        """The journal's current configuration document (built-in when nothing was applied)."""
        rows = self._config_rows()
        base = builtin_document(self.ceiling())
        if not rows:
            return base
        doc = copy.deepcopy(dict(rows[-1].metadata or {})["config"])
        try:
            validate_document(doc)
        except EvolutionError:
            return base
        return doc

    def version(self) -> str:
        return str(self.document()["config_version"])

    def tuning(self) -> EngineTuning:
        """What the engine reads: the current document and the journal's constitution rules."""
        doc = self.document()
        tuning = tuning_from(doc, self.rules_json())
        if doc["checker"]["directive_threshold"] == builtin_document(self.ceiling())["checker"]["directive_threshold"]:
            # Untouched by any proposal: the engine settings' threshold (issue 13) still counts.
            tuning = replace(tuning, directive_threshold=None)
        if self.constitution is not None and any((self.constitution / n).is_file() for n in CONSTITUTION_NAMES[:4]):
            pages = "\n\n".join(self.constitution_text(n).strip() for n in CONSTITUTION_NAMES[:4])
            tuning = replace(tuning, constitution=pages)
        return tuning

    # -- proposals ---------------------------------------------------------------------------------
    def check_changes(self, proposal_type: str, changes: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
        """The changes, validated against the current configuration; raises EvolutionError in one sentence."""
        import jsonpatch
        import jsonpointer

        types = [t.value for t in ProposalType]
        if proposal_type not in types:
            raise _err(f"{proposal_type!r} is not a proposal type; use one of {', '.join(types)}. Nothing was saved.")
        changes = _json_changes(changes)
        if not isinstance(changes, dict):
            raise _err("The changes must be a JSON object with \"type\" and \"patch\"; nothing was saved.")
        if changes.get("type", proposal_type) != proposal_type:
            raise _err(f"The changes say type {changes.get('type')!r} but the proposal is {proposal_type}; "
                       "make them match. Nothing was saved.")
        impact = changes.get("expected_impact", "")
        if not isinstance(impact, str) or len(impact) > 2000:
            raise _err("expected_impact must be a sentence of at most 2,000 characters; nothing was saved.")
        if proposal_type == ProposalType.CONSTITUTIONAL_AMENDMENT.value:
            name = changes.get("file")
            if name not in CONSTITUTION_NAMES:
                raise _err(f"A constitutional amendment names one file of {', '.join(CONSTITUTION_NAMES)} in "
                           "\"file\"; nothing was saved.")
            if not isinstance(changes.get("before"), str) or not isinstance(changes.get("after"), str):
                raise _err("A constitutional amendment gives the file's text in \"before\" and \"after\"; nothing was saved.")
            if changes["before"] == changes["after"]:
                raise _err("The amendment's before and after are the same; nothing was saved.")
            if name == "rules.json":
                try:
                    from mirror_desktop.engine._data import RuleSet

                    RuleSet.from_json(json.loads(changes["after"]))
                except (ValueError, KeyError, TypeError, AttributeError):
                    raise _err("The amended rules.json is not a usable rule set; nothing was saved.") from None
            return {"type": proposal_type, "file": name, "before": changes["before"], "after": changes["after"],
                    "expected_impact": impact}
        patch = changes.get("patch")
        if not isinstance(patch, list) or not patch:
            raise _err("The changes need a \"patch\": a non-empty list of JSON Patch operations; nothing was saved.")
        for op in patch:
            if not isinstance(op, dict) or not isinstance(op.get("path"), str):
                raise _err("Every patch operation is an object with \"op\" and \"path\"; nothing was saved.")
            if op["path"] == "/config_version" or op["path"].startswith("/config_version/") or op.get("from") == "/config_version":
                raise _err("A proposal cannot set config_version; applying it sets the version. Nothing was saved.")
        after = copy.deepcopy(base if base is not None else self.document())
        for i, op in enumerate(patch):
            where = f"operation {i + 1} ({op.get('op')} {op['path']})"
            try:
                after = jsonpatch.JsonPatch([op]).apply(after)
            except jsonpatch.InvalidJsonPatch:
                raise _err(f"The patch is not a valid JSON Patch: {where} is not an RFC 6902 operation; "
                           "nothing was saved.") from None
            except jsonpatch.JsonPatchTestFailed:
                raise _err(f"The patch's {where} test does not hold for the current configuration; "
                           "nothing was saved.") from None
            except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError, ValueError,
                    AttributeError, IndexError, KeyError):
                raise _err(f"The patch does not fit the configuration: {where} names a place the configuration "
                           "does not have; nothing was saved.") from None
        validate_document(after)
        return {"type": proposal_type, "patch": patch, "expected_impact": impact}

    def propose(self, proposal_type: str, title: str, description: str, changes: Any, *,
                evidence: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None) -> m.EvolutionProposal:
        """A new draft; the changes are checked first, so a bad one saves nothing."""
        if not (title or "").strip() or not (description or "").strip():
            raise _err("A proposal needs a title and a description; nothing was saved.")
        if len(title) > 200 or len(description) > 10_000:
            raise _err("A title has at most 200 characters and a description 10,000; nothing was saved.")
        clean = self.check_changes(proposal_type, changes)
        meta = {"author": "you", **(metadata or {})}
        return self.storage.evolution_proposals.create(m.EvolutionProposal(
            proposal_type=ProposalType(proposal_type), title=title.strip(), description=description.strip(),
            changes=clean, from_version=self.version(), evidence=evidence, metadata=meta))

    def get(self, proposal_id: str) -> m.EvolutionProposal:
        found = self.storage.evolution_proposals.find(proposal_id)
        if found is None:
            raise _err(f"No proposal with id {proposal_id} exists; `mirror evolve list` shows them.")
        return found

    def proposals(self, status: str | None = None) -> list[m.EvolutionProposal]:
        rows = self.storage.evolution_proposals.list()
        return [p for p in rows if status is None or str(p.status) == status]

    def history(self) -> list[m.EvolutionHistory]:
        return self.storage.evolution_history.list()

    def proposed_document(self, proposal: m.EvolutionProposal, base: dict[str, Any] | None = None) -> dict[str, Any]:
        """The configuration the proposal would make (for an amendment: the same, major version up)."""
        import jsonpatch

        base = copy.deepcopy(base if base is not None else self.document())
        changes = proposal.changes or {}
        if str(proposal.proposal_type) == ProposalType.CONSTITUTIONAL_AMENDMENT.value:
            after = base
            after["config_version"] = bump(base["config_version"], "major")
            return after
        try:
            after = jsonpatch.JsonPatch(changes.get("patch") or []).apply(base)
        except Exception as exc:  # noqa: BLE001 - jsonpatch raises many kinds; all mean "does not fit now"
            raise _err(f"The proposal's patch no longer fits the current configuration ({type(exc).__name__}); "
                       "propose it again against this version.") from None
        validate_document(after)
        after["config_version"] = bump(base["config_version"], "minor")
        return after

    # -- the flow ----------------------------------------------------------------------------------
    def _refuse(self, p: m.EvolutionProposal, action: str) -> EvolutionError:
        status = str(p.status)
        hint = {
            "draft": f"test it first (mirror evolve test {p.id})",
            "testing": f"finish its test (mirror evolve test {p.id})",
            "review": f"approve or reject it (mirror evolve approve {p.id})",
            "voting": f"approve or reject it (mirror evolve approve {p.id})",
            "approved": f"apply it (mirror evolve apply {p.id})",
            "applied": "it is already in effect; roll back with `mirror evolve rollback`",
            "rejected": "it is closed; propose it again to try once more",
        }[status]
        return _err(f"Proposal {p.id} cannot be {action} while it is {status}; {hint}.")

    def _move(self, p: m.EvolutionProposal, *statuses: ProposalStatus, **fields: Any) -> m.EvolutionProposal:
        for i, status in enumerate(statuses):
            extra = fields if i == len(statuses) - 1 else {}
            p = self.storage.evolution_proposals.update(replace(p, status=status, **extra))
        return p

    def test(self, proposal_id: str, *, cancel: Callable[[], bool] | None = None,
             progress: Callable[[float], None] | None = None) -> m.EvolutionProposal:
        """Run the sandbox and store ``test_results``; draft → testing → review. Cancel writes nothing."""
        p = self.get(proposal_id)
        if str(p.status) not in ("draft", "testing", "review"):
            raise self._refuse(p, "tested")
        return self.store_test(proposal_id, self.sandbox(p, cancel=cancel, progress=progress))

    def store_test(self, proposal_id: str, results: dict[str, Any]) -> m.EvolutionProposal:
        """Keep a sandbox run's results (the window runs the sandbox on a reading connection first)."""
        p = self.get(proposal_id)
        if str(p.status) not in ("draft", "testing", "review"):
            raise self._refuse(p, "tested")
        with self.storage.transaction():
            p = self.get(proposal_id)
            if str(p.status) == "draft":
                p = self._move(p, ProposalStatus.TESTING)
            if str(p.status) == "testing":
                p = self._move(p, ProposalStatus.REVIEW, test_results=results)
            else:
                p = self.storage.evolution_proposals.update(replace(p, test_results=results))
        return p

    def approval_problem(self, p: m.EvolutionProposal) -> str | None:
        """Why the constitution forbids approving ``p`` (one sentence), or None."""
        changes = p.changes or {}
        ceiling = self.ceiling()
        if str(p.proposal_type) == ProposalType.CONSTITUTIONAL_AMENDMENT.value:
            removed = _principles(changes["file"], changes["before"]) - _principles(changes["file"], changes["after"])
            if removed:
                first = sorted(removed)[0]
                return (f"This amendment removes a principle from {changes['file']} ({first[:80]!r}); "
                        "the constitution can gain principles but not lose them.")
            if changes["file"] == "rules.json":
                try:
                    after_t = float(json.loads(changes["after"])["directive_threshold"])
                except (ValueError, KeyError, TypeError):
                    after_t = ceiling
                if after_t > ceiling:
                    return (f"This amendment raises the constitution's directive ceiling from {ceiling:g} to "
                            f"{after_t:g}; the ceiling can only be lowered.")
        else:
            try:
                after = self.proposed_document(p)
            except EvolutionError as exc:
                return str(exc)
            t = float(after["checker"]["directive_threshold"])
            if t > ceiling:
                return (f"This proposal sets /checker/directive_threshold to {t:g}, above the constitution's ceiling "
                        f"of {ceiling:g}, so it cannot be approved.")
        tr = p.test_results or {}
        through = int((tr.get("checker") or {}).get("advice_through_after") or 0)
        if through:
            return (f"The test shows the checker letting advice through ({through} advice-bearing "
                    f"{'reply' if through == 1 else 'replies'} not caught), so this proposal cannot be approved.")
        return None

    def approve(self, proposal_id: str, note: str | None = None) -> m.EvolutionProposal:
        """The person's vote for it: review → voting → approved, with vote_results (one eligible voter)."""
        p = self.get(proposal_id)
        if str(p.status) not in ("review", "voting"):
            raise self._refuse(p, "approved")
        problem = self.approval_problem(p)
        if problem:
            raise _err(problem)
        votes = {"eligible_voters": 1, "votes_cast": 1, "approve": 1, "reject": 0, "approval_rate": 1.0,
                 "threshold": 1.0, "voter": "you", "note": (note or "").strip() or None, "decided_at": _now()}
        with self.storage.transaction():
            p = self.get(proposal_id)
            steps = (ProposalStatus.VOTING, ProposalStatus.APPROVED) if str(p.status) == "review" else (ProposalStatus.APPROVED,)
            return self._move(p, *steps, vote_results=votes, approved_at=utc_now())

    def reject(self, proposal_id: str, note: str | None = None) -> m.EvolutionProposal:
        p = self.get(proposal_id)
        if str(p.status) not in ("testing", "review", "voting"):
            raise self._refuse(p, "rejected")
        votes = {"eligible_voters": 1, "votes_cast": 1, "approve": 0, "reject": 1, "approval_rate": 0.0,
                 "threshold": 1.0, "voter": "you", "note": (note or "").strip() or None, "decided_at": _now()}
        with self.storage.transaction():
            return self._move(self.get(proposal_id), ProposalStatus.REJECTED, vote_results=votes)

    # -- apply and roll back --------------------------------------------------------------------------
    def _seq(self) -> int:
        return max([int((r.metadata or {}).get("seq") or 0) for r in self.storage.evolution_history.list()] + [0]) + 1

    def _history(self, evolution_id: str, event_type: HistoryEventType, from_v: str | None, to_v: str | None,
                 reversible: bool, meta: dict[str, Any]) -> m.EvolutionHistory:
        row = m.EvolutionHistory(evolution_id=evolution_id, event_type=event_type.value, from_version=from_v,
                                 to_version=to_v, reversible=reversible, applied_by="you",
                                 metadata={**meta, "seq": self._seq()})
        return self.storage.evolution_history.create(lifecycle.sign_history(self.storage, row))

    def _check_chain(self) -> None:
        report = lifecycle.verify(self.storage)
        bad = [f for f in report.failures if f["table"] == "evolution_history"]
        if bad:
            raise _err(f"History row {bad[0]['id']} fails its signature check ({bad[0]['reason']}); nothing was "
                       "changed (`mirror evolve verify` lists every row that fails).")

    def _write_constitution(self, name: str, text: str) -> None:
        if self.constitution is None:
            raise _err("This journal has no folder for its own constitution (a server journal); nothing was changed.")
        folder = private_dir(self.constitution)
        if not any(folder.iterdir()):
            # The folder starts as a copy of the shipped constitution, so a bundle carries all of it.
            from mirror_desktop.resources import resource

            for other in CONSTITUTION_NAMES:
                write_bytes_atomically(folder / other, resource("constitution", other).read_bytes())
        write_bytes_atomically(folder / name, text.encode("utf-8"))

    def apply(self, proposal_id: str) -> m.EvolutionHistory:
        """Approved → applied: the new configuration (version bumped), a history row and an upgrade event."""
        p = self.get(proposal_id)
        if str(p.status) != "approved":
            raise self._refuse(p, "applied")
        problem = self.approval_problem(p)
        if problem:
            raise _err(problem)
        self._check_chain()
        before = self.document()
        after = self.proposed_document(p, before)
        changes = p.changes or {}
        meta: dict[str, Any] = {"config": after, "previous_config": before, "proposal_type": str(p.proposal_type),
                                "reason": p.title}
        amendment = str(p.proposal_type) == ProposalType.CONSTITUTIONAL_AMENDMENT.value
        if amendment:
            current = self.constitution_text(changes["file"])
            if current != changes["before"]:
                raise _err(f"{changes['file']} has changed since this amendment was written (its \"before\" no "
                           "longer matches); nothing was changed.")
            meta["constitution"] = {"file": changes["file"], "before": changes["before"], "after": changes["after"]}
            self._write_constitution(changes["file"], changes["after"])
        try:
            with self.storage.transaction():
                row = self._history(p.id, HistoryEventType.UPGRADE, before["config_version"], after["config_version"],
                                    True, meta)
                lifecycle.record_event(self.storage, LifecycleEventType.UPGRADE,
                                       {"kind": "engine_config", "proposal_id": p.id, "proposal_type": str(p.proposal_type),
                                        "history_id": row.id},
                                       from_version=before["config_version"], to_version=after["config_version"])
                self._move(self.get(p.id), ProposalStatus.APPLIED, applied_at=utc_now(),
                           from_version=before["config_version"], to_version=after["config_version"])
        except BaseException:
            if amendment:
                self._write_constitution(changes["file"], changes["before"])
            raise
        return row

    def rollback(self, to_version: str | None = None) -> m.EvolutionHistory:
        """Undo the newest apply (``rollback``), or everything after ``to_version`` (``downgrade``)."""
        self._check_chain()
        live = self.stack()
        current = self.document()
        if to_version is None:
            if not live:
                raise _err("Nothing has been applied, so there is nothing to roll back; the built-in configuration "
                           "is in effect.")
            undo = [live[-1]]
            target = copy.deepcopy(dict(live[-1].metadata or {})["previous_config"])
            kind = HistoryEventType.ROLLBACK
        else:
            if not _SEMVER.match(to_version):
                raise _err(f"{to_version!r} is not a version (MAJOR.MINOR.PATCH); nothing was changed.")
            versions = [BASE_VERSION] + [str(r.to_version) for r in live]
            if to_version not in versions:
                raise _err(f"Version {to_version} is not in this journal's line ({', '.join(versions)}); "
                           "nothing was changed.")
            if to_version == current["config_version"]:
                raise _err(f"Version {to_version} is already in effect; nothing was changed.")
            idx = versions.index(to_version)
            undo = live[idx:]
            target = (copy.deepcopy((live[idx - 1].metadata or {})["config"]) if idx > 0
                      else builtin_document(self.ceiling()))
            kind = HistoryEventType.DOWNGRADE
        restored: list[dict[str, Any]] = []
        for row in reversed(undo):
            amend = (row.metadata or {}).get("constitution")
            if isinstance(amend, dict):
                self._write_constitution(str(amend["file"]), str(amend["before"]))
                restored.append({"file": amend["file"]})
        with self.storage.transaction():
            meta = {"config": target, "previous_config": current, "undoes": [r.id for r in undo],
                    "rollback_reason": "user_initiated", "impact": f"{len(undo)} change(s) rolled back",
                    "constitution_restored": restored}
            row = self._history(undo[-1].evolution_id, kind, current["config_version"], target["config_version"],
                                False, meta)
            lifecycle.record_event(self.storage, LifecycleEventType.DOWNGRADE,
                                   {"kind": "engine_config", "history_id": row.id, "undid": len(undo),
                                    "user_initiated": True},
                                   from_version=current["config_version"], to_version=target["config_version"])
        return row

    # -- fork and merge ---------------------------------------------------------------------------------
    def fork(self, name: str, out: Path | None = None, *, reason: str | None = None) -> tuple[m.EvolutionHistory, dict[str, Any]]:
        """Export this journal's configuration as a named variant (a ``fork`` history row and event)."""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name or ""):
            raise _err("A fork's name is 1–64 letters, digits, dots, dashes or underscores; nothing was written.")
        doc = self.document()
        variant = {"fork_name": name, "base_version": doc["config_version"], "config": doc}
        if out is not None:
            write_bytes_atomically(Path(out), json.dumps(variant, indent=2, ensure_ascii=False).encode("utf-8"))
        declared = sorted({r.evolution_id for r in self.stack()})
        with self.storage.transaction():
            row = self._history(f"fork:{name}", HistoryEventType.FORK, doc["config_version"], doc["config_version"],
                                False, {"fork_name": name, "config": doc, "reason": reason})
            lifecycle.record_event(self.storage, LifecycleEventType.FORK,
                                   {"fork_name": name, "base_version": doc["config_version"],
                                    "declared_changes": declared, "fork_maintainer": "you", "fork_reason": reason})
        return row, variant

    def merge(self, proposals: list[dict[str, Any]], source: str) -> list[m.EvolutionProposal]:
        """Adopt another journal's proposals (from its bundle's evolution/proposals/) as drafts to test here."""
        have = {str((p.metadata or {}).get("merged_from")) for p in self.proposals()} | {p.id for p in self.proposals()}
        adopted: list[m.EvolutionProposal] = []
        with self.storage.transaction():
            for raw in proposals:
                if not isinstance(raw, dict) or str(raw.get("id")) in have:
                    continue
                try:
                    made = self.propose(str(raw.get("proposal_type")), str(raw.get("title") or ""),
                                        str(raw.get("description") or ""), raw.get("changes"),
                                        evidence=raw.get("evidence") if isinstance(raw.get("evidence"), dict) else None,
                                        metadata={"merged_from": str(raw.get("id")), "source": source})
                except EvolutionError:
                    continue   # a proposal that does not fit this journal's configuration is left out
                adopted.append(made)
            if adopted:
                self._history(f"merge:{source}", HistoryEventType.MERGE, self.version(), self.version(), False,
                              {"source": source, "proposal_ids": [p.id for p in adopted], "count": len(adopted)})
        return adopted

    # -- drafts from feedback -------------------------------------------------------------------------
    def draft_from_feedback(self, min_count: int = DRAFT_MIN_FLAGS) -> list[m.EvolutionProposal]:
        """Repeated flags (too_directive, too_long, missed_pattern) draft a proposal with their evidence."""
        runs_by_flag: dict[str, list[str]] = {}
        for fb in self.storage.engine_feedback.list():
            for flag in fb.flags or []:
                kind = _DRAFTABLE.get(flag)
                if kind:
                    runs_by_flag.setdefault(kind, []).append(fb.engine_run_id)
        open_kinds = {str((p.evidence or {}).get("flag")) for p in self.proposals()
                      if str(p.status) in ("draft", "testing", "review", "voting", "approved")}
        doc = self.document()
        made = []
        for kind, run_ids in sorted(runs_by_flag.items()):
            if len(run_ids) < min_count or kind in open_kinds:
                continue
            evidence = {"flag": kind, "count": len(run_ids), "run_ids": sorted(set(run_ids))[:50],
                        "drafted_from": "engine_feedback"}
            if kind == "directive":
                t = float(doc["checker"]["directive_threshold"])
                changes = {"type": "safety_refinement", "expected_impact": "Fewer replies that read as directions.",
                           "patch": [{"op": "replace", "path": "/checker/directive_threshold", "value": round(t * 0.8, 4)}]}
                title, ptype = "Lower the directive threshold", "safety_refinement"
            elif kind == "too_long":
                n = int(doc["reply"]["max_sentences"])
                changes = {"type": "prompt_adjustment", "expected_impact": "Shorter mirrorbacks.",
                           "patch": [{"op": "replace", "path": "/reply/max_sentences", "value": max(1, n - 1)}]}
                title, ptype = "Shorter mirrorbacks", "prompt_adjustment"
            else:
                # The phrases were missed in the person's own words, which evidence never holds: the
                # draft starts with a placeholder test on one pattern for the person to edit.
                changes = {"type": "pattern_detection", "expected_impact": "Notice a pattern the engine missed.",
                           "patch": [{"op": "test", "path": "/patterns/absolute_thinking/phrases",
                                      "value": doc["patterns"]["absolute_thinking"]["phrases"]}]}
                title, ptype = "Notice a pattern that was missed", "pattern_detection"
            made.append(self.propose(ptype, title, f"Drafted from {len(run_ids)} mirrorbacks flagged {kind!r}.",
                                     changes, evidence=evidence, metadata={"drafted": True}))
        return made

    # -- regression ---------------------------------------------------------------------------------------
    def check_regression(self, window: int = 20, min_after: int = 5) -> RegressionFinding | None:
        """Whether the mirrorbacks since the newest apply did worse than before it; records one event per apply."""
        live = self.stack()
        if not live:
            return None
        row = live[-1]
        if any((ev.event_data or {}).get("history_id") == row.id
               for ev in self.storage.evolution_events.list(event_type=LifecycleEventType.REGRESSION.value)):
            return None
        runs = self.storage.engine_runs.list(order_by=["-timestamp"], limit=window * 4)
        after = [r for r in runs if r.timestamp >= row.applied_at][:window]
        before = [r for r in runs if r.timestamp < row.applied_at][:window]
        if len(after) < min_after or not before:
            return None
        stats_b, stats_a = self._quality(before), self._quality(after)
        reason = None
        if stats_a["directive_rate"] > stats_b["directive_rate"] + 0.1:
            reason = "directive_threshold_exceeded"
        elif stats_a["rating"] and stats_b["rating"] and stats_a["rating"] < stats_b["rating"] - 0.5:
            reason = "ratings_dropped"
        if reason is None:
            return None
        hours = round((utc_now() - row.applied_at).total_seconds() / 3600, 2)
        lifecycle.record_event(self.storage, LifecycleEventType.REGRESSION,
                               {"from_version": row.to_version, "to_version": row.from_version, "reason": reason,
                                "history_id": row.id, "hours_since_apply": hours, "user_initiated": False,
                                "before": stats_b, "after": stats_a},
                               from_version=row.to_version, to_version=row.from_version)
        return RegressionFinding(row.id, str(row.to_version), stats_b, stats_a, reason)

    def _quality(self, runs: list[m.EngineRun]) -> dict[str, float]:
        directive = sum(1 for r in runs if "directive_threshold_exceeded" in (r.flags or {}) or "explicit_advice" in (r.flags or {}))
        fb = [f for r in runs for f in self.storage.engine_feedback.list(engine_run_id=r.id)]
        flagged = sum(1 for f in fb if "too_directive" in (f.flags or []))
        ratings = [f.rating for f in fb if f.rating]
        return {"runs": float(len(runs)), "directive_rate": round((directive + flagged) / max(1, len(runs)), 3),
                "rating": round(sum(ratings) / len(ratings), 2) if ratings else 0.0}

    # -- what the window shows --------------------------------------------------------------------------
    def snapshot(self) -> EvolutionSnapshot:
        """Proposals, history, the current document and which history rows are still in effect."""
        live = self.stack()
        return EvolutionSnapshot(self.proposals(), self.history(), self.document(), tuple(r.id for r in live),
                                 lifecycle.telemetry_consent(self.storage))

    def diff_rows(self, p: m.EvolutionProposal) -> list[tuple[str, str, str]]:
        """(where, before, after) for each place the proposal changes, as text for people."""
        import jsonpointer

        changes = p.changes or {}
        if str(p.proposal_type) == ProposalType.CONSTITUTIONAL_AMENDMENT.value:
            return [(f"constitution/{changes.get('file')}", str(changes.get("before", "")), str(changes.get("after", "")))]
        before = self.document()
        try:
            after = self.proposed_document(p, before)
        except EvolutionError as exc:
            return [("(does not apply)", "", str(exc))]
        def at(doc: dict[str, Any], path: str) -> str:
            value = jsonpointer.resolve_pointer(doc, path, None)
            return "(none)" if value is None else json.dumps(value, ensure_ascii=False)

        rows = []
        for op in changes.get("patch") or []:
            path = re.sub(r"/(?:-|\d+)$", "", str(op.get("path", "")))
            rows.append((path or "/", at(before, path), at(after, path)))
        return rows

    # -- the sandbox --------------------------------------------------------------------------------------
    def journal_sample(self, limit: int = JOURNAL_SAMPLE) -> list[tuple[str, str]]:
        """(reflection id, text) of the reflections behind the person's last ``limit`` mirrorbacks."""
        seen: dict[str, None] = {}
        for mb in self.storage.mirrorbacks.list(order_by=["-created_at"], limit=limit):
            seen.setdefault(mb.reflection_id, None)
        found = self.storage.reflections.find_many(list(seen))
        return [(rid, found[rid].content) for rid in seen if rid in found]

    def sandbox(self, p: m.EvolutionProposal, *, cancel: Callable[[], bool] | None = None,
                progress: Callable[[float], None] | None = None,
                sample: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        """Run the current and the proposed configuration side by side; nothing is written."""
        from mirror_desktop.core.sandbox import run_sandbox

        before = self.document()
        after = self.proposed_document(p, before)
        rules_before = self.rules_json()
        rules_after = rules_before
        changes = p.changes or {}
        if str(p.proposal_type) == ProposalType.CONSTITUTIONAL_AMENDMENT.value and changes.get("file") == "rules.json":
            rules_after = str(changes["after"])
        if sample is None:
            sample = self.journal_sample()
        return run_sandbox(tuning_from(before, rules_before), tuning_from(after, rules_after), sample,
                           cancel=cancel, progress=progress)


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def feedback_flag_counts(storage: Any) -> Counter[str]:
    """How often each feedback flag was given (what drafts are made from)."""
    return Counter(f for fb in storage.engine_feedback.list() for f in (fb.flags or []))


__all__ = ["EvolutionError", "EvolutionService", "RegressionFinding", "builtin_document", "load_changes_file",
           "tuning_from", "validate_document"]
