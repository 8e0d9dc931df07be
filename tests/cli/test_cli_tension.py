"""`mirror tension list|add|set`: output, seeds, and bad input that exits non-zero and changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mirror_desktop.cli.main import main


def run(capsys, data_dir, *argv):
    code = main(["--data-dir", str(data_dir), "tension", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def listing(capsys, data_dir):
    code, out, _ = run(capsys, data_dir, "list", "--json")
    assert code == 0
    return json.loads(out)


def test_list_json_has_every_field_and_seeds(capsys, tmp_path):
    data = listing(capsys, tmp_path)
    assert len(data["tensions"]) >= 8 and len(data["axes"]) >= 3
    t = data["tensions"][0]
    assert set(t) == {"id", "identity_id", "name", "axis_a", "axis_b", "position", "intensity", "origin",
                      "sync_mode", "created_at", "updated_at", "metadata"}
    assert t["origin"] == "system_seed" and t["metadata"]["position_history"] == []
    assert all("visual_color" in a["metadata"] for a in data["axes"])


def test_add_then_set_records_history(capsys, tmp_path):
    code, out, _ = run(capsys, tmp_path, "add", "Work vs Play", "--poles", "Work", "Play", "--axis", "time and energy", "--json")
    assert code == 0
    added = json.loads(out)
    axis = next(a for a in listing(capsys, tmp_path)["axes"] if a["name"] == "Time and energy")
    assert added["metadata"]["axis_id"] == axis["id"] and added["origin"] == "user_created"

    code, out, _ = run(capsys, tmp_path, "set", added["id"][:8], "--position", "-0.4", "--intensity", "0.75")
    assert code == 0 and "-0.40" in out
    t = next(x for x in listing(capsys, tmp_path)["tensions"] if x["id"] == added["id"])
    assert (t["position"], t["intensity"]) == (-0.4, 0.75)
    [entry] = t["metadata"]["position_history"]
    assert (entry["position"], entry["intensity"]) == (-0.4, 0.75) and entry["date"]


def test_plain_list_groups_by_axis(capsys, tmp_path):
    code, out, _ = run(capsys, tmp_path, "list")
    assert code == 0
    assert out.splitlines()[0] == "Relating" and "Control vs Surrender" in out


@pytest.mark.parametrize("argv", [
    ["set", "{id}", "--position", "1.5"],
    ["set", "{id}", "--position", "-2"],
    ["set", "{id}", "--intensity", "-0.1"],
    ["set", "{id}", "--intensity", "abc"],
    ["set", "{id}", "--position", "nan"],
    ["set", "{id}"],
    ["set", "no-such-tension", "--position", "0.1"],
    ["add", "x" * 101, "--poles", "A", "B"],
    ["add", "Fine name", "--poles", "A", " "],
    ["add", "   ", "--poles", "A", "B"],
    ["add", "Fine name", "--poles", "A", "B", "--axis", "No such axis"],
])
def test_bad_input_exits_non_zero_with_one_sentence_and_changes_nothing(capsys, tmp_path, argv):
    before = listing(capsys, tmp_path)
    target = before["tensions"][0]["id"]
    code, out, err = run(capsys, tmp_path, *[a.replace("{id}", target) for a in argv])
    assert code != 0
    assert err.startswith("mirror: ") and err.count("\n") == 1 and "Traceback" not in err
    assert listing(capsys, tmp_path) == before


def test_subprocess_entry_point(tmp_path):
    base = [sys.executable, "-m", "mirror_desktop.cli", "--data-dir", str(tmp_path), "tension"]
    ok = subprocess.run([*base, "list", "--json"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0
    tid = json.loads(ok.stdout)["tensions"][0]["id"]
    bad = subprocess.run([*base, "set", tid, "--position", "3"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "between -1 and 1" in bad.stderr
    after = subprocess.run([*base, "list", "--json"], capture_output=True, text=True, timeout=60)
    assert after.stdout == ok.stdout
