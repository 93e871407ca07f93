"""Shamir sharing over a group's scalars: polynomials, evaluation, Lagrange coefficients.

Party indices are the evaluation points (1, 2, ...), never 0, which is the secret.
CGGMP21 and FROST both share keys this way and turn t+1 Shamir shares into
additive ones with the signing subset's Lagrange coefficients at 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from protocol.errors import UsageError
from protocol.group import Group, Point, Scalar
from protocol.rng import Rng


def random_polynomial(group: Group, rng: Rng, constant: Scalar, degree: int) -> tuple[Scalar, ...]:
    """constant + a_1·X + ... + a_degree·X^degree with uniform a_k."""
    if degree < 0:
        raise UsageError("a polynomial degree is non-negative")
    return (constant, *(group.random_scalar(rng) for _ in range(degree)))


def _horner(coefficients: Sequence, x: int):
    """c_0 + c_1·x + ... + c_t·x^t for scalars or points c_k: ((c_t·x + c_{t-1})·x + ...) + c_0."""
    if not coefficients:
        raise UsageError("a polynomial needs at least its constant term")
    at = coefficients[0].group.scalar(x)
    acc = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        acc = acc * at + c
    return acc


def evaluate(coefficients: Sequence[Scalar], x: int) -> Scalar:
    """The polynomial at x (Horner)."""
    return _horner(coefficients, x)


def evaluate_points(commitments: Sequence[Point], x: int) -> Point:
    """Σ_k x^k·C_k: for a Feldman vector C_k = a_k·G, the image f(x)·G of the share at x."""
    return _horner(commitments, x)


def _check_subset(subset: Sequence[int]) -> tuple[int, ...]:
    subset = tuple(subset)
    if not subset or len(set(subset)) != len(subset) or any(i < 1 for i in subset):
        raise UsageError("a signing subset is distinct positive party indices")
    return subset


def lagrange_at_zero(group: Group, i: int, subset: Iterable[int]) -> Scalar:
    """λ_i for ``subset``: Σ_{i∈S} λ_i·f(i) = f(0) for every f of degree < |S|."""
    subset = _check_subset(list(subset))
    if i not in subset:
        raise UsageError(f"party {i} is not in the subset {list(subset)}")
    num, den = group.scalar(1), group.scalar(1)
    for j in subset:
        if j != i:
            num = num * group.scalar(j)
            den = den * group.scalar(j - i)
    return num * den.inverse()


__all__ = ["evaluate", "evaluate_points", "lagrange_at_zero", "random_polynomial"]
