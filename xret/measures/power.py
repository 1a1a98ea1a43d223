"""Power of the two-sided one-sample (paired) Student t-test: what an inconclusive comparison
would need to become conclusive.

For n paired observations whose differences have mean μ and standard deviation σ, the test's
statistic follows a noncentral t with n − 1 degrees of freedom and noncentrality δ √n, where
δ = μ / σ is the standardised effect; it rejects at level α when |t| > t(1 − α/2, n − 1), so

    power(δ, n) = P(T' > c) + P(T' < −c),   T' ~ nct(n − 1, δ √n),   c = t(1 − α/2, n − 1).

The minimum detectable difference at a given power is δ* σ with power(δ*, n) = that power, and
the observations needed to detect an effect δ are the smallest n with power(δ, n) ≥ it
(statsmodels' ``TTestPower`` is the oracle in the tests).
"""

from __future__ import annotations

import math

from xret.defaults import ALPHA, POWER


def t_power(effect: float, n: int, alpha: float = ALPHA) -> float:
    """Power of the two-sided one-sample t-test at ``effect`` = μ / σ with ``n`` observations."""
    from scipy.stats import nct, t

    df = n - 1
    critical = t.ppf(1 - alpha / 2, df)
    noncentrality = effect * math.sqrt(n)
    opposite = float(nct.cdf(-critical, df, noncentrality))
    # scipy's nct gives NaN far in that tail, where the probability is below 1e-100.
    return float(nct.sf(critical, df, noncentrality)) + (0.0 if math.isnan(opposite) else opposite)


def detectable_effect(n: int, power: float = POWER, alpha: float = ALPHA) -> float:
    """The standardised effect δ* that the test detects with probability ``power`` (n ≥ 2)."""
    from scipy.optimize import brentq

    high = 1.0
    while t_power(high, n, alpha) < power:
        high *= 2
    return float(brentq(lambda effect: t_power(effect, n, alpha) - power, 0.0, high, xtol=1e-12))


def observations_needed(
    effect: float, power: float = POWER, alpha: float = ALPHA, most: int = 10_000
) -> int | None:
    """The smallest n ≥ 2 with t_power(effect, n) ≥ ``power``; None when above ``most``."""
    effect = abs(effect)
    if effect == 0 or t_power(effect, most, alpha) < power:
        return None
    low, high = 1, most  # power grows with n: bisect on "enough"
    while high - low > 1:
        middle = (low + high) // 2
        if t_power(effect, middle, alpha) >= power:
            high = middle
        else:
            low = middle
    return max(high, 2)
