"""The claims ledger cannot drift: every registered check still reaches its recorded verdict.

Also: the registry is complete and well formed (all five sources, all nine "theorems" of source
004, unique ids, every link target present in the book), and the checks are sensitive, i.e. they
change their verdict when the claim they check is changed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kdmath import ledger
from kdmath.ledger import checks
from kdmath.ledger._finding import DECIDED, agrees_to_shown_digits

from .book_toc import ROOT, toc_entries

CHECKED = [claim for claim in ledger.CLAIMS if claim.check is not None]


@pytest.mark.parametrize("claim", CHECKED, ids=[claim.id for claim in CHECKED])
def test_check_reaches_the_recorded_verdict(claim):
    finding = ledger.run_check(claim)
    assert finding.verdict == claim.verdict, f"{claim.id}: recorded {claim.verdict!r}, check finds {finding.verdict!r}: {finding.evidence}"
    assert finding.evidence.strip(), f"{claim.id}: the check gives no evidence"


def test_ids_are_unique_and_every_source_is_covered():
    ids = [claim.id for claim in ledger.CLAIMS]
    assert len(ids) == len(set(ids))
    assert {claim.source for claim in ledger.CLAIMS} == set(ledger.SOURCES)
    for short, filename in ledger.SOURCES.items():
        assert (ROOT.parent / "shared" / "sources" / filename).exists() or not (ROOT.parent / "shared").exists(), filename


def test_all_nine_theorems_of_source_004_have_a_verdict():
    places = " ".join(claim.place for claim in ledger.CLAIMS if claim.source == "004")
    for number in range(1, 10):
        assert re.search(rf"Theorem {number}\b", places), f"source 004's Theorem {number} is not in the ledger"


def test_decided_verdicts_have_checks_and_the_others_have_reasons():
    for claim in ledger.CLAIMS:
        if claim.verdict in DECIDED:
            assert claim.check is not None, claim.id
        else:
            assert claim.note, claim.id
        if claim.verdict in (ledger.CORRECTED, ledger.FALSE):
            assert claim.correction, claim.id


def _book_labels() -> tuple[set[str], set[str]]:
    """Section / equation labels, and sphinx-proof labels, defined anywhere in the book's sources."""
    plain, proof = set(), set()
    for path in [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("book/*.md")]:
        if path.suffix == ".ipynb":
            text = "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])
        else:
            text = path.read_text()
        plain |= set(re.findall(r"^\(([\w-]+)\)=\s*$", text, re.M))
        plain |= set(re.findall(r"\$\$\s*\(([\w-]+)\)", text))
        proof |= set(re.findall(r"^:label:\s*([\w-]+)\s*$", text, re.M))
    return plain, proof


def test_every_claim_links_to_a_place_in_the_book():
    plain, proof = _book_labels()
    pages = set(toc_entries())
    for claim in ledger.CLAIMS:
        kind, _, target = claim.where.partition(":")
        if kind in ("ref", "eq"):
            assert target in plain, f"{claim.id}: no label {target!r} in the book"
        elif kind == "prf":
            assert target in proof, f"{claim.id}: no theorem labelled {target!r}"
        else:
            assert target in pages, f"{claim.id}: {target!r} is not a page of the book"


def test_rounding_comparison():
    assert agrees_to_shown_digits(0.046, 0.04576, 3)
    assert agrees_to_shown_digits(1.11, 1.10517, 2)
    assert not agrees_to_shown_digits(0.228, 0.2347, 3)
    assert agrees_to_shown_digits(0.228, 0.2287, 3, slack=1) and not agrees_to_shown_digits(0.228, 0.2297, 3, slack=1)


def test_checks_change_their_verdict_when_the_claim_changes(monkeypatch):
    # the wrong row of the temperature table, replaced by the right values, is then verified
    right_row = tuple(round(v, 3) for v in checks.example1_T20().values["computed"])
    monkeypatch.setitem(checks.EXAMPLE1_STATED, 20, right_row)
    assert checks.example1_T20().verdict == ledger.VERIFIED
    # and a right row, spoiled in one entry, is corrected
    spoiled = list(checks.EXAMPLE1_STATED[2])
    spoiled[1] += 0.002
    monkeypatch.setitem(checks.EXAMPLE1_STATED, 2, tuple(spoiled))
    assert checks.example1_T2().verdict == ledger.CORRECTED


def test_counterexample_checks_fail_when_the_counterexample_is_removed(monkeypatch):
    import kdmath.theory

    # Theorem 8: a self-distillation whose test error never rises would verify the claim
    monkeypatch.setattr(kdmath.theory, "kernel_ridge_self_distillation", lambda *a, **k: [1.0 - 0.01 * i for i in range(a[4])])
    assert checks.self_distillation_monotone().verdict == ledger.VERIFIED


def test_json_export_lists_every_claim():
    result = subprocess.run([sys.executable, "-m", "kdmath.ledger"], capture_output=True, text=True, check=True, cwd=ROOT)
    rows = json.loads(result.stdout)
    assert [row["id"] for row in rows] == [claim.id for claim in ledger.CLAIMS]
    assert sum(ledger.verdict_counts().values()) == len(rows)
