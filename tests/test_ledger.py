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
    for short, source in ledger.SOURCES.items():
        assert source.id == short and source.file.startswith(f"{short}_"), source
        assert (ROOT.parent / "shared" / "sources" / source.file).exists() or not (ROOT.parent / "shared").exists(), source.file


def test_every_source_has_a_reader_facing_title_and_summary():
    titles = [source.title for source in ledger.SOURCES.values()]
    assert len(set(titles)) == len(titles)
    for source in ledger.SOURCES.values():
        assert source.title and source.summary.endswith("."), source.id
        # what a reader sees names no file, and is plain text (no markup, no math)
        for text in (source.title, source.summary):
            assert source.file not in text and ".txt" not in text and not re.search(r"[$`*_\\]", text), (source.id, text)


def test_math_spans_and_literal_dollars():
    assert ledger.math_spans(r"costs \$10 and $T^2$ at $T = 2$") == ["T^2", "T = 2"]
    assert ledger.math_spans("no formula") == []
    with pytest.raises(ValueError, match="odd number"):
        ledger.math_spans("costs $10")
    from kdmath.ledger.registry import not_a_formula

    assert not_a_formula(r"\frac1T (q_i - p_i)") is None and not_a_formula(r"\mathrm{KL}(p\Vert q)") is None
    assert not_a_formula("10,000 of teacher inference plus ") is not None  # the price that was typeset as math
    assert not_a_formula("11,000 / (") is not None
    with pytest.raises(ValueError, match="literal dollar"):
        ledger.Claim("x", "003", "p", "costs $10,000 of inference plus $1,000", ledger.VERIFIED, "doc:book/claims", check=len)


def test_every_claim_text_is_formulas_and_prose_kept_apart():
    """Constructing the registry already refuses prose between dollars; here the texts that quote prices escape them."""
    from kdmath.ledger.registry import not_a_formula

    for claim in ledger.CLAIMS:
        for text in (claim.place, claim.statement, claim.correction, claim.note):
            for span in ledger.math_spans(text or ""):
                assert not_a_formula(span) is None, (claim.id, span)
    priced = [claim for claim in ledger.CLAIMS if claim.id.startswith("003-pp5")]
    assert priced and all("\\$" in claim.statement for claim in priced)


def _ledger_extension():
    import importlib.util

    spec = importlib.util.spec_from_file_location("kdbook_ledger_under_test", ROOT / "book" / "_ext" / "kdbook_ledger.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_claims_json_is_written_atomically_and_readable_by_all(tmp_path):
    import os
    import stat

    extension = _ledger_extension()
    old_umask = os.umask(0o077)  # even under a strict umask: a web server runs as another user
    try:
        target = extension.write_json(tmp_path, {"claims": [1, 2]})
    finally:
        os.umask(old_umask)
    assert target == tmp_path / "claims.json"
    assert json.loads(target.read_text()) == {"claims": [1, 2]}
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [path.name for path in tmp_path.iterdir()] == ["claims.json"]  # no temporary file left behind


def test_check_links_point_at_the_function_in_the_repository():
    import inspect

    extension = _ledger_extension()
    url, branch, root = extension._repository(None, ROOT)
    import yaml

    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    assert (url, branch, root) == (repository["url"].rstrip("/"), repository["branch"], ROOT)
    link = extension.code_url(checks.soft_gradient, url, branch, root)
    line = inspect.getsourcelines(checks.soft_gradient)[1]
    assert link == f"{url}/blob/{branch}/kdmath/ledger/checks/source_000.py#L{line}"
    assert (ROOT / "kdmath" / "ledger" / "checks" / "source_000.py").read_text().splitlines()[line - 1].startswith("def soft_gradient(")
    assert extension.code_url(checks.soft_gradient, None, branch, root) is None


def test_build_stamp_names_a_commit():
    stamp = _ledger_extension().build_stamp(ROOT)
    assert stamp["commit_label"] and stamp["date_display"], stamp


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


def _book_labels() -> tuple[set[str], set[str], set[str]]:
    """Section labels, equation labels, and sphinx-proof (and exercise) labels, defined anywhere in the book's sources."""
    plain, equations, proof = set(), set(), set()
    for path in [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("book/*.md")]:
        if path.suffix == ".ipynb":
            text = "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])
        else:
            text = path.read_text()
        plain |= set(re.findall(r"^\(([\w-]+)\)=\s*$", text, re.M))
        equations |= set(re.findall(r"\$\$\s*\(([\w-]+)\)", text))
        proof |= set(re.findall(r"^:label:\s*([\w-]+)\s*$", text, re.M))
    return plain, equations, proof


def test_every_claim_links_to_a_place_in_the_book():
    plain, equations, proof = _book_labels()
    # an exercise's label is no theorem: {prf:ref} cannot reach it
    exercises = {label for path in ROOT.glob("notebooks/*.ipynb")
                 for label in re.findall(r"\{exercise\}[^\n]*\n:label:\s*([\w-]+)", path.read_text().replace("\\n", "\n"))}
    pages = set(toc_entries())
    for claim in ledger.CLAIMS:
        kind, _, target = claim.where.partition(":")
        if kind == "ref":
            assert target in plain, f"{claim.id}: no section labelled {target!r} in the book (an equation is 'eq:')"
        elif kind == "eq":
            assert target in equations, f"{claim.id}: no equation labelled {target!r} in the book"
        elif kind == "prf":
            assert target in proof and target not in exercises, f"{claim.id}: no theorem labelled {target!r}"
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
