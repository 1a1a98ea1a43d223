"""The paper's bias claims asked of every panel measure, and where the measures disagree."""

from __future__ import annotations

from types import SimpleNamespace

from xret.study.claims import CLAIMS, XX, XY, Claim, Verdict, disagreements, panel_claims


def _run(summary: dict):
    return SimpleNamespace(record=SimpleNamespace(summary={"macro": {"multi": summary}}))


def test_panel_claims_follow_the_measure_table():
    runs = [_run({"MAP": 0.5, "RD": 300.0, "WrongSame": 0.2, "PEER@10": 0.4}), _run({"nRD": 0.1})]
    claims = panel_claims(runs)
    # RD keeps the paper's wording (CLAIMS); MAP is no bias measure; the table's order.
    assert [c.measure for c in claims] == [
        "nRD",
        "nRD",
        "PEER@10",
        "PEER@10",
        "WrongSame",
        "WrongSame",
    ]
    assert all(c.better == XY and c.worse == XX for c in claims if not c.same)
    assert panel_claims([_run({"MAP": 0.5, "RD": 1.0})]) == ()


def _verdict(claim: Claim, verdict: str) -> Verdict:
    return Verdict("b", "xquad-r", claim, 0.0, (0.0, 0.0), None, verdict)


def test_disagreements_group_the_measures_of_one_claim_by_verdict():
    rd_more, rd_same = CLAIMS[5], CLAIMS[6]
    panel = panel_claims([_run({"nRD": 1.0, "PEER@10": 0.5})])
    found = [
        _verdict(CLAIMS[0], "not reproduced"),  # a MAP claim: not a bias measure
        _verdict(rd_more, "reproduced"),
        _verdict(rd_same, "inconclusive"),
        _verdict(panel[0], "reproduced"),  # nRD ≫
        _verdict(panel[1], "inconclusive"),  # nRD ≈
        _verdict(panel[2], "not reproduced"),  # PEER ≫
        _verdict(panel[3], "inconclusive"),  # PEER ≈
    ]
    more, same = disagreements(found)
    assert more.claim.startswith("X-X-mono ≫ X-Y") and more.disagree
    assert more.by_verdict == {"not reproduced": ("PEER@10",), "reproduced": ("RD", "nRD")}
    assert same.claim == "X-Y ≈ Hybrid" and not same.disagree
    assert same.by_verdict == {"inconclusive": ("RD", "nRD", "PEER@10")}
