"""Second-order claims in the hard regimes: planted 1e-6 relative errors caught with their label,
correct claims passing (the 100-seed figures come from tests.corpus.soak, see regimes.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradcheck.options import RunOptions
from gradcheck.run import run
from tests.test_corpus import expected

HERE = Path(__file__).parent
GALLERY = HERE.parents[1] / "specs" / "layer_norm_hvp.yaml"


@pytest.mark.parametrize("seed", [0, 1])
def test_every_second_order_claim_gets_its_planted_verdict(seed):
    result = run([str(HERE / "regimes.yaml")], RunOptions(seed=seed, examples=10))
    assert not result.failures, [f.message for f in result.failures]
    got = {v.claim: v.label for v in result.verdicts}
    assert got == {claim: expected(claim) for claim in got}
    assert sum(claim.endswith("-1e-6") for claim in got) == 5


def test_a_planted_1e_6_error_reads_as_its_factor():
    result = run(
        [str(HERE / "regimes.yaml")], RunOptions(seed=3, examples=10, claim=("bug-scaled-hessian-large-1e-6",))
    )
    (v,) = result.verdicts
    assert v.diagnosis == "scaled: the claim is 1.000001 x the true Hessian on every entry (factor 1.000001)"


def test_the_layer_norm_hvp_gallery_spec():
    result = run([str(GALLERY)], RunOptions(seed=5))
    assert result.exit_code == 0
    by = {v.claim: v for v in result.verdicts}
    assert by["hvp-x"].label == "pass" and by["hessian-beta"].label == "pass"
    assert by["bug-wrong-gauss-newton"].label == "wrong"
    assert by["bug-scaled-hessian-beta"].label == "scaled"
    assert by["bug-wrong-hessian-gamma-not-symmetric"].diagnosis.startswith("not symmetric where it must be")
