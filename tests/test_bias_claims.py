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


def test_panel_table_ranks_the_regimes_in_each_measures_direction():
    from dataclasses import dataclass

    from xret.study.claims import HYBRID
    from xret.study.report import panel_table

    @dataclass(frozen=True)
    class FakeRun:
        base: str
        arm: object
        seed: int
        task: str
        summary: dict

        def macro(self, setting, measure):
            return self.summary.get(measure) if setting == "multi" else None

        @property
        def record(self):
            return SimpleNamespace(summary={"macro": {"multi": self.summary}})

    runs = [
        FakeRun("me5", XX, 0, "xquad-r", {"RD": 360.0, "WrongSame": 0.30, "PEER@10": 0.20}),
        FakeRun("me5", XX, 1, "xquad-r", {"RD": 362.0, "WrongSame": 0.32, "PEER@10": 0.22}),
        FakeRun("me5", XY, 0, "xquad-r", {"RD": 340.0, "WrongSame": 0.10, "PEER@10": 0.40}),
        FakeRun("me5", HYBRID, 0, "xquad-r", {"RD": 343.0, "WrongSame": 0.20}),
        FakeRun("me5", HYBRID, 1, "xquad-r", {"RD": 344.0}),  # recorded before the panel
    ]
    table = panel_table(runs)
    assert [c.label for c in table.columns[2:]] == ["seeds", "PEER@10", "WrongSame"]
    rows = {row[1]: row[2:] for row in table.rows}
    # PEER: higher is fairer; WrongSame: lower is less biased. Means over the seeds holding it,
    # and how many of the regime's seeds that is.
    assert rows["X-Y"] == ("1", "0.400 (1)", "0.100 (1)")
    assert rows["X-X-mono"] == ("2", "0.210 ± 0.014 (2)", "0.310 ± 0.014 (3)")
    assert rows[HYBRID.label] == ("1 of 2", None, "0.200 (2)")
    assert panel_table([FakeRun("me5", XX, 0, "xquad-r", {"RD": 1.0})]) is None


def test_verdict_table_says_how_many_seeds_each_claim_pairs():
    from xret.study.report import verdict_table

    (claim, *_) = panel_claims([_run({"nRD": 1.0})])
    found = Verdict("b", "xquad-r", claim, 0.2, (0.1, 0.3), (0.0, 0.4), "x", per_seed=(0.1, 0.3))
    table = verdict_table([found])
    assert table.columns[3].label == "seeds" and table.rows[0][3] == 2
