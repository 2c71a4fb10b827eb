"""The verdict vocabulary: severity from the failing part, readings with a headline."""

import pytest

from dsmlib.verdicts import PARTS, Reading, Verdict, severity, verdict


@pytest.mark.parametrize(
    ("part", "factor", "expected"),
    [
        ("value", 1.03, "cosmetic"),
        ("value", 1.5, "constant"),
        ("constant", 0.96, "cosmetic"),
        ("constant", None, "constant"),
        ("scope", None, "scope"),
        ("reasoning", None, "proof"),
        ("conclusion", None, "conclusion"),
    ],
)
def test_severity_follows_the_failing_part(part, factor, expected):
    assert severity(part=part, factor=factor) == expected


def test_severity_rejects_unknown_part_and_bad_factor():
    with pytest.raises(ValueError, match="part must be one of"):
        severity(part="magnitude")
    with pytest.raises(ValueError, match="finite"):
        severity(part="constant", factor=float("nan"))
    assert set(PARTS) == {"value", "constant", "scope", "reasoning", "conclusion"}


def test_headline_must_follow_the_papers_own_reading():
    own = Reading("the paper's block", "confirmed", "cos 0.95", papers_own=True)
    other = Reading("a block the paper never uses", "refuted", "cos 0.07")
    v = verdict("HT-RES", "confirmed", "ev", readings=[own, other], can_fail="cos < 0.5 would refute")
    assert "readings:" in v.line() and "[paper's own]" in v.line()
    with pytest.raises(ValueError, match="must follow the paper's own"):
        verdict("HT-RES", "refuted", "ev", severity="conclusion", readings=[own, other])
    with pytest.raises(ValueError, match="exactly one reading"):
        verdict("HT-RES", "confirmed", "ev", readings=[other])
    with pytest.raises(ValueError, match="reading's verdict"):
        Reading("x", "not-tested", "1")
    with pytest.raises(ValueError, match="Reading objects"):
        Verdict("HT-RES", "confirmed", "ev", readings=("x",))


def test_claim_ref_and_own_number():
    from dsmlib.verdicts import Reading, Verdict, claim_ref

    assert claim_ref("HT-L2S") == "{prf:ref}`HT-L2S <ht-l2s>`"
    rd = (Reading("theirs", "confirmed", "1.0"), Reading("own", "refuted", "0.5 (CI 0.4-0.6)", papers_own=True))
    assert Verdict("HT-C", "refuted", "e", "h", "constant", rd).own_number == "0.5 (CI 0.4-0.6)"
    assert Verdict("HT-C", "confirmed", "e").own_number is None
