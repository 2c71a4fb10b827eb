"""``python -m dsmlib.claims [ID ...] [--format tsv|json|markdown]``: argument errors, formats, laziness, pipes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dsmlib import claims

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake(monkeypatch):
    """Replace every declared check by a fast fake that records which experiments ran."""
    ran: list[str] = []

    def entry(cid: str):
        claims.checks_module(cid)  # unknown ids still raise
        if cid in ("HT-A1", "HT-C", "RC-E"):
            return (lambda: ran.append(cid) or 0.5, lambda r, cid=cid: claims.verdict(cid, "confirmed", f"r = {r}"))
        return None

    monkeypatch.setattr(claims, "check_entry", entry)
    return ran


@pytest.fixture
def nothing_runs(monkeypatch):
    """Fail the test if any check or experiment is looked up."""

    def boom(cid: str):
        raise AssertionError(f"{cid} was evaluated")

    monkeypatch.setattr(claims, "check_entry", boom)


def test_an_unknown_id_exits_2_with_a_hint_before_anything_runs(nothing_runs, capsys):
    with pytest.raises(SystemExit) as e:
        claims.main(["HT-A1", "HT-L9", "rc-t1x"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "unknown claim id: 'HT-L9'" in err and "'rc-t1x'" in err and "did you mean" in err


def test_an_unknown_option_exits_2(nothing_runs, capsys):
    with pytest.raises(SystemExit) as e:
        claims.main(["--colour"])
    assert e.value.code == 2
    assert "unrecognized arguments: --colour" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        claims.main(["--format", "xml"])
    assert e.value.code == 2


def test_help_exits_0_without_computing(nothing_runs, capsys):
    with pytest.raises(SystemExit) as e:
        claims.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--format {tsv,json,markdown}" in out and "ID" in out


def test_only_the_named_ids_are_evaluated_in_the_order_given(fake, capsys):
    assert claims.main(["RC-E", "HT-A1"]) == 0
    assert fake == ["RC-E", "HT-A1"]
    assert capsys.readouterr().out == "RC-E\tconfirmed\tr = 0.5\nHT-A1\tconfirmed\tr = 0.5\n"


def test_no_ids_means_every_claim_in_the_ledger_order(fake, capsys):
    assert claims.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split("\t")[0] for ln in lines] == list(claims.CLAIMS)
    assert sorted(fake) == ["HT-A1", "HT-C", "RC-E"]


def test_json_parses_and_carries_the_fields(fake, capsys):
    assert claims.main(["HT-C", "HT-L1", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["HT-C", "HT-L1"]
    assert rows[0]["verdict"] == "confirmed" and rows[1]["verdict"] == "not-tested"
    assert set(rows[0]) >= {"id", "verdict", "severity", "evidence", "holds", "statement", "chapter"}


def test_markdown_is_one_table_row_per_claim(fake, capsys):
    assert claims.main(["--format", "markdown", "HT-A1", "RC-E"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| id | verdict |") and len(lines) == 4
    assert all(ln.startswith("| ") and ln.endswith(" |") for ln in lines)


def test_help_from_the_command_line_is_quick_and_exits_0():
    """``--help`` parses before any chapter is imported; the time is that of ``import dsmlib``."""
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "dsmlib.claims", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "usage: python -m dsmlib.claims" in r.stdout and not r.stderr
    assert time.perf_counter() - t0 < 60


def test_an_unknown_id_from_the_command_line_exits_2():
    r = subprocess.run([sys.executable, "-m", "dsmlib.claims", "HT-NOPE"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "unknown claim id" in r.stderr and not r.stdout


def test_a_closed_pipe_ends_quietly():
    """``python -m dsmlib.claims | head -c 100``: no traceback when the reader goes away."""
    script = textwrap.dedent(
        """
        import sys
        from dsmlib import claims
        long = "x" * 20000  # 51 lines of 20 kB: far more than a pipe buffer
        claims.check_entry = lambda cid: (lambda: 0, lambda r, cid=cid: claims.verdict(cid, "confirmed", long))
        sys.exit(claims.main(sys.argv[1:]))
        """
    )
    p = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = p.stdout.read(100)
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert head.startswith(b"HT-A1\tconfirmed\txxx")
    assert err == "", err
    assert p.returncode == 141
