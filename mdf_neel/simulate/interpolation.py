"""Verified adaptive interpolation of dictionary elements along the anisotropy axis K.

φ̂ varies smoothly with K (through σ = K·V/kT), so most K values of a dense grid can be
interpolated from a few exactly computed ones — provided the error is measured. This
module holds the pure numerics and the refinement bookkeeping; :func:`dictionary`
(``mdf_neel.simulate.dictionary``) runs the exact solves.

Scheme (per diameter, deterministic):

1. initial nodes: K indices ``0, s, 2s, …`` and the last index (``s = max_stride``);
2. each interval between adjacent nodes with interior points is verified: its midpoint
   is computed exactly and compared with the piecewise-cubic interpolant through the
   nodes known before that round (the midpoint itself excluded). The error is the row
   accuracy contract's (:func:`mdf_neel.simulate.accuracy.contract_row_errors`: per row
   the paper's eq. 20 over the offsets, each row normalised by the larger of its own
   peak and 1e-5 of its matrix's peak), per angle: the RMS over the rows and the
   largest row, the worst angle of each. The interval is accepted when the RMS is within
   ``RMS_SHARE · rtol`` and the largest row within ``MAX_SHARE · MAX_ROW_FACTOR · rtol``
   (the contract's sampling margins: the exact elements carry their own solver error)
   unless an adjacent interval of the same round failed (buffer rule: one sample per
   interval can be fooled, e.g. a step centred on the midpoint of a cubic stencil; the
   neighbours of a failed interval are therefore refined too); otherwise both halves
   are verified in the next round (down to stride 1). Every computed midpoint becomes
   a node (it is exact);
3. the remaining K values are interpolated through all nodes.

The piecewise-cubic interpolant at K: the Lagrange polynomial through the 4 consecutive
nodes around the node interval that holds K (shifted inwards at the ends; all nodes when
fewer than 4 exist), on the actual, possibly non-uniform, K values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

__all__ = [
    "AnisotropyInterpolation",
    "lagrange_weights",
    "stencil",
    "interpolate_at",
    "contract_errors",
    "AdaptiveRefinement",
    "SCHEME",
]

#: Identifies the scheme in cache settings (a change of the algorithm changes the fingerprint).
SCHEME = "midpoint-bisection+neighbour-buffer/piecewise-cubic-lagrange-4/row-contract-rms0.5-max0.3-per-angle"
#: shares of the row contract's RMS bound (rtol) and maximum bound (MAX_ROW_FACTOR·rtol) that a
#: verification midpoint may use: the margins of the contract's own sampled check (the exact
#: elements carry their solver error, and one midpoint stands for its interval)
RMS_SHARE = 0.5
MAX_SHARE = 0.3


@dataclass(frozen=True)
class AnisotropyInterpolation:
    """Settings of the verified interpolation along K (``dictionary(anisotropy_interpolation=...)``).

    Parameters
    ----------
    rtol : float
        Row accuracy contract of the interpolated elements (as ``SolverSettings.rtol``): at
        a verification midpoint the interpolant's per-row errors against the exact element
        must have an RMS within ``RMS_SHARE · rtol`` and a largest row within
        ``MAX_SHARE · MAX_ROW_FACTOR · rtol``, for every angle. Must be >= 0; 0 computes
        everything.
    max_stride : int
        Spacing (in grid indices) of the initial exact nodes, >= 1; 1 computes everything.
    """

    rtol: float = 1e-3
    max_stride: int = 16

    def __post_init__(self):
        rtol = float(self.rtol)
        if not np.isfinite(rtol) or rtol < 0:
            raise ValueError(f"AnisotropyInterpolation.rtol must be a finite number >= 0, got {self.rtol!r}")
        if isinstance(self.max_stride, bool) or int(self.max_stride) != self.max_stride or self.max_stride < 1:
            raise ValueError(f"AnisotropyInterpolation.max_stride must be an integer >= 1, got {self.max_stride!r}")
        object.__setattr__(self, "rtol", rtol)
        object.__setattr__(self, "max_stride", int(self.max_stride))

    @classmethod
    def coerce(cls, value) -> "AnisotropyInterpolation | None":
        """``None``, an instance, or a mapping of its fields → an instance (or None)."""
        if value is None or isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {"rtol", "max_stride"}
            if unknown:
                raise ValueError(
                    f"anisotropy_interpolation: unknown key(s) {sorted(unknown)}; expected 'rtol' and 'max_stride'"
                )
            return cls(**value)
        raise TypeError(
            "anisotropy_interpolation must be None, an AnisotropyInterpolation or a mapping "
            f"with 'rtol' and 'max_stride', got {type(value).__name__}"
        )

    def settings(self) -> dict:
        """JSON-serialisable description (part of a dictionary cache's settings)."""
        return {**asdict(self), "scheme": SCHEME}


def lagrange_weights(x_nodes, x: float) -> np.ndarray:
    """Weights w of the Lagrange polynomial through ``x_nodes`` evaluated at ``x``.

    ``p(x) = Σ_j w_j f(x_nodes[j])``; exact for polynomials of degree < len(x_nodes).

    Parameters
    ----------
    x_nodes : array_like, shape (n,)
        Distinct abscissae (any order, non-uniform allowed).
    x : float

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    xn = np.asarray(x_nodes, dtype=np.float64)
    w = np.ones(xn.size)
    for j in range(xn.size):
        for m in range(xn.size):
            if m != j:
                w[j] *= (x - xn[m]) / (xn[j] - xn[m])
    return w


def stencil(nodes, i: int, width: int = 4) -> np.ndarray:
    """The ``width`` consecutive nodes (indices) around the node interval holding index ``i``.

    ``nodes`` are sorted grid indices; the stencil holds the interval's two ends and one
    more node on each side where they exist, shifted inwards at the ends of the grid;
    all nodes when fewer than ``width`` exist.
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    if nodes.size <= width:
        return nodes
    j = int(np.searchsorted(nodes, i, side="right")) - 1  # left end of the interval
    j = min(max(j, 0), nodes.size - 2)
    start = min(max(j - (width // 2 - 1), 0), nodes.size - width)
    return nodes[start : start + width]


def interpolate_at(values, x_grid, nodes, i: int) -> np.ndarray:
    """Piecewise-cubic interpolant at grid index ``i`` from the values at ``nodes``.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_grid, ...)
        Values along the grid; only the rows ``nodes`` are read.
    x_grid : numpy.ndarray, shape (n_grid,)
        Abscissae of the grid (sorted, strictly increasing).
    nodes : sequence of int
        Sorted grid indices of the known (exact) values.
    i : int

    Returns
    -------
    numpy.ndarray, shape values.shape[1:]
    """
    s = stencil(nodes, i)
    w = lagrange_weights(x_grid[s], float(x_grid[i]))
    return np.tensordot(w, values[s], axes=(0, 0))


def contract_errors(approx, exact) -> tuple[float, float]:
    """(RMS, largest row) of the row contract's errors of ``approx`` against ``exact``
    (shape (n_angles, C, F, N), one matrix per angle), the worst angle of each."""
    from .accuracy import contract_row_errors

    err = contract_row_errors(approx, exact)  # (n_angles, C, F)
    per_angle = err.reshape(err.shape[0], -1)
    return float(np.sqrt(np.mean(per_angle**2, axis=1)).max()), float(per_angle.max())


class AdaptiveRefinement:
    """Bookkeeping of the verified refinement for a grid of ``n_D`` × ``n_K`` pairs.

    Usage: exact pairs of ``initial()``; then repeatedly ``midpoints()`` (exact pairs of
    the next round) and ``verify(values)`` until ``midpoints()`` is empty; finally
    ``fill(values)``. ``values`` has shape (n_D, n_K, n_angles, ...) and must hold exact
    values at every pair requested so far.
    """

    def __init__(self, x_grid, n_diameters: int, settings: AnisotropyInterpolation):
        self.x = np.asarray(x_grid, dtype=np.float64)
        self.settings = settings
        n = self.x.size
        first = sorted(set(range(0, n, settings.max_stride)) | {n - 1})
        self.nodes = [set(first) for _ in range(n_diameters)]
        self.pending = [[(a, b) for a, b in zip(first[:-1], first[1:]) if b - a > 1] for _ in range(n_diameters)]
        self.errors = []  # one record per verified midpoint
        self.rounds = 0

    def initial(self) -> list:
        """(i_d, i_k) pairs of the initial nodes."""
        return [(d, k) for d, nodes in enumerate(self.nodes) for k in sorted(nodes)]

    def midpoints(self) -> list:
        """(i_d, i_k) pairs to compute exactly for the next verification round."""
        return [(d, (a + b) // 2) for d, intervals in enumerate(self.pending) for a, b in intervals]

    def verify(self, values) -> None:
        """Compare every pending midpoint with the interpolant through the nodes known so far.

        An interval is accepted when its midpoint's row errors are within the shares of the
        contract's bounds (:data:`RMS_SHARE`, :data:`MAX_SHARE`) and neither interval
        adjacent to it in this round failed (the buffer rule); otherwise both halves are
        verified in the next round.
        """
        from .accuracy import MAX_ROW_FACTOR

        rtol = self.settings.rtol
        self.rounds += 1
        for d, intervals in enumerate(self.pending):
            known = sorted(self.nodes[d])  # nodes before this round: the midpoints excluded
            errors = [
                contract_errors(interpolate_at(values[d], self.x, known, (a + b) // 2), values[d, (a + b) // 2])
                for a, b in intervals
            ]
            failed = {
                iv
                for iv, (rms, worst) in zip(intervals, errors)
                if not (rms <= RMS_SHARE * rtol and worst <= MAX_SHARE * MAX_ROW_FACTOR * rtol)
            }
            ends = {end for iv in failed for end in iv}
            nxt = []
            for (a, b), (rms, worst) in zip(intervals, errors):
                buffer = (a, b) not in failed and (a in ends or b in ends)
                accepted = (a, b) not in failed and not buffer
                self.errors.append(
                    {
                        "diameter_index": d,
                        "anisotropy_index": (a + b) // 2,
                        "interval": (a, b),
                        "round": self.rounds,
                        "error": rms,
                        "max_row_error": worst,
                        "accepted": accepted,
                        "buffer": buffer,
                    }
                )
                if not accepted:
                    m = (a + b) // 2
                    nxt += [(lo, hi) for lo, hi in ((a, m), (m, b)) if hi - lo > 1]
            self.nodes[d].update((a + b) // 2 for a, b in intervals)
            self.pending[d] = nxt

    def fill(self, values) -> np.ndarray:
        """Interpolate every non-node K in place; returns the mask of interpolated (i_d, i_k)."""
        mask = np.zeros((len(self.nodes), self.x.size), dtype=bool)
        for d, nodes in enumerate(self.nodes):
            known = sorted(nodes)
            for k in range(self.x.size):
                if k not in nodes:
                    values[d, k] = interpolate_at(values[d], self.x, known, k)
                    mask[d, k] = True
        return mask

    def summary(self, n_angles: int) -> dict:
        """Statistics for ``SystemFunctionDictionary.stats["interpolation"]``."""
        n_d, n_k = len(self.nodes), self.x.size
        exact = sum(len(n) for n in self.nodes)
        errs = [e["error"] for e in self.errors]
        return {
            **self.settings.settings(),
            "nodes": [sorted(n) for n in self.nodes],
            "exact_pairs": exact,
            "grid_pairs": n_d * n_k,
            "exact_elements": exact * n_angles,
            "grid_elements": n_d * n_k * n_angles,
            "rounds": self.rounds,
            "verifications": self.errors,
            "max_midpoint_error": max(errs) if errs else 0.0,
            "max_accepted_error": max((e["error"] for e in self.errors if e["accepted"]), default=0.0),
            "max_accepted_row_error": max((e["max_row_error"] for e in self.errors if e["accepted"]), default=0.0),
        }
