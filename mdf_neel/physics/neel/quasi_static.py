"""Quasi-static (adiabatic) expansion of the Néel Fokker–Planck equation, for particles
that relax much faster than the drive changes.

Small particles (on the paper's grid: 14–18 nm at low and moderate barriers) relax in
≲ 10⁻⁷ s while the drive's harmonics that the rows use stay below 0.5 MHz. The periodic
steady state is then the series

    f = f_0 + f_1 + f_2 + …,   A(B) f_0 = 0 (normalised),   A(B) f_{k+1} = ḟ_k,

each f_{k+1} with a zero l = 0 coefficient: f_0 is the stationary (Boltzmann) density at
the instantaneous field, and every further term is smaller by about ωτ (ω the rate of
the drive's harmonics, τ the slowest relaxation time). The series is the periodic
solution itself: there is no transient, no shooting and no time step, so its error does
not grow with the weak high harmonics the row contract weights (a time stepper needs
per-step tolerances near 1e-7 for them).

By the chain rule f_k is a sum of coefficient functions of the field times monomials of
its time derivatives (f_1 = Σ_j F_j(B) Ḃ_j, f_2 = Σ F_ij Ḃ_i Ḃ_j + Σ F_i B̈_i, …), and
for fields in one plane through the easy axis (B_y = 0 in the axis frame, every member
of the paper's dictionaries after :func:`.frame.canonical_rotation`) the coefficient
functions depend on (B_x, B_z) only. Their moments are tabulated once per particle on
a grid that is uniform near zero field and graded beyond (``TABLE_GRADING``)
(:func:`.quasi_static_kernels.series_table`: one banded LU per node and
the field derivatives as exact jets, A being affine in B), and every member costs an
interpolation per sample (``STENCIL`` × ``STENCIL`` Lagrange points) times the monomials of its own
spectrally exact field derivatives.

Its error has three parts, each controlled by a setting: the truncation of the series
(``order``), the table's interpolation (``TABLE_SPACING`` in kT/m0; the coefficient
functions are analytic in B with singularities about π kT/m0 away) and the degree.
Used by :func:`mdf_neel.physics.mean_magnetization` (``method="quasi-static"``) and, in
the row contract, checked against converged full solves like every other method.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from . import quasi_static_kernels as qk
from .lapack import single_threaded_blas

__all__ = [
    "series_terms",
    "applies",
    "choose_order",
    "nyquist_frequency_Hz",
    "table_bytes",
    "solve_quasi_static",
    "MAX_EPS",
    "MAX_ORDER",
    "MAX_TABLE_BYTES",
]

logger = logging.getLogger("mdf_neel.physics")

#: table node spacing in kT/m0 (the rows see the interpolation error: at 14 nm / 6700 J/m³,
#: order 3, 0.1 with 8 points left 2.9e-4 RMS, 0.07 with 10 points 1.5e-5; docs/neel-numerics.md)
TABLE_SPACING = 0.07
#: points per axis of the Lagrange stencil
STENCIL = 10
#: grading of the table [kT/m0]: nodes at c·sinh(u/c) on a uniform grid u of TABLE_SPACING, so
#: the spacing is TABLE_SPACING at zero field and grows like |ξ|/c beyond c, where the functions
#: vary on the scale of |ξ| (None: uniform). Rows against the uniform table: c = 1.5 changed them
#: by <= 6e-7 (14 nm / 6700, 16 nm / 8600, 26 nm / 400 J/m³) with 3-33x fewer nodes; 0.4 by 2e-3
TABLE_GRADING = 1.5
#: highest order of the series (at 16 nm / 8600 J/m³, 2π f τ_1 = 0.225 at the highest of the
#: paper's rows: orders 4, 5 and 6 left 6.9e-5, 2.3e-5 and 1.6e-5 RMS against converged solves)
MAX_ORDER = 6
#: largest table the series builds [bytes]: the stored quadrant B_x, B_z >= 0 (its nodes grow as
#: (u(ξ_max) / TABLE_SPACING)², its terms with the order: 139 at order 6). On the paper's grid the
#: graded tables take at most 31 MiB (28 nm / 600 J/m³, order 6); a uniform one took 322 MiB at
#: 26 nm / 400 J/m³ (order 4)
MAX_TABLE_BYTES = 128 * 2**20
#: largest 2π f τ_1 at which the series is used, f the highest frequency the caller uses. Rows
#: against converged solves (12 angles x 121 offsets): 0.225 at 16 nm / 8600 J/m³ left 7.7e-4 on
#: the top rows at order 4 (predicted 0.225^5 = 5.8e-4) and 2e-4 at order 5; 0.296 at 20 nm /
#: 3800 J/m³ left 1.4e-3 at order 4 and 2.0e-3 at order 5, where the higher order no longer helps
MAX_EPS = 0.25


def series_terms(order: int):
    """The terms of the expansion up to ``order``: their orders, monomials and the
    program that builds each from the previous order.

    Returns
    -------
    term_order : numpy.ndarray of int, shape (nt,)
    exponents : numpy.ndarray of int, shape (nt, 2·order)
        Exponent of each variable v = 2(r − 1) + k (the r-th time derivative of B_k,
        k = 0: B_x, 1: B_z) in each term's monomial.
    src, kind, coef : numpy.ndarray of int, shape (nt, P)
        Contributions to each term (:func:`.quasi_static_kernels.series_point`).

    Examples
    --------
    >>> term_order, exponents, *_ = series_terms(2)
    >>> term_order.tolist()    # f_0; two first-order terms (Ḃ_x, Ḃ_z); five of order 2
    [0, 1, 1, 2, 2, 2, 2, 2]
    >>> exponents[term_order == 2].sum(axis=0).tolist()   # Ḃ_x Ḃ_x, Ḃ_x Ḃ_z, Ḃ_z Ḃ_z, B̈_x, B̈_z
    [3, 3, 1, 1]
    """
    order = int(order)
    nv = 2 * max(order, 1)
    zero = (0,) * nv
    terms = [(0, zero)]
    contributions = {0: []}
    for k in range(order):
        new = {}
        for t, (o, mono) in enumerate(terms):
            if o != k:
                continue
            # d/dt C(B) = Σ_j ∂_j C · Ḃ_j
            for j in (0, 1):
                m2 = list(mono)
                m2[j] += 1
                new.setdefault(tuple(m2), []).append((t, j, 1))
            # d/dt of the monomial: each factor B_k^(r) becomes B_k^(r+1)
            for v, e in enumerate(mono):
                if e == 0:
                    continue
                r, kk = v // 2 + 1, v % 2
                m2 = list(mono)
                m2[v] -= 1
                m2[2 * r + kk] += 1
                new.setdefault(tuple(m2), []).append((t, 2, e))
        for mono in sorted(new):
            contributions[len(terms)] = new[mono]
            terms.append((k + 1, mono))
    nt = len(terms)
    width = max(len(c) for c in contributions.values()) or 1
    src = np.zeros((nt, width), dtype=np.int64)
    kind = np.full((nt, width), -1, dtype=np.int64)
    coef = np.zeros((nt, width), dtype=np.float64)
    for t, cs in contributions.items():
        for p, (s, kd, w) in enumerate(cs):
            src[t, p], kind[t, p], coef[t, p] = s, kd, w
    term_order = np.array([o for o, _ in terms], dtype=np.int64)
    exponents = np.array([m for _, m in terms], dtype=np.int64)
    return term_order, exponents, src, kind, coef


def applies(particle, frequency_Hz: float, rtol: float = 1.0, max_field_T: float | None = None) -> bool:
    """Whether the series applies up to the frequency ``frequency_Hz`` [Hz] (the highest
    the caller uses: the Nyquist frequency for m̄(t) itself, the highest row for a system
    matrix): 2π f τ_1 <= MAX_EPS and an order up to MAX_ORDER truncates within ``rtol``
    (:func:`choose_order`), and, given the largest field ``max_field_T`` [T], its table
    fits MAX_TABLE_BYTES (:func:`table_bytes`). τ_1 is the zero-field relaxation time of the longitudinal moment
    (:meth:`ParticleParameters.neel_time_s`, the slowest relaxation at zero field, where the
    barrier is highest: it matched the discrete operator's slowest eigenvalue to 0.1-0.8 %
    from 14 nm / 6700 to 26 nm / 8500 J/m³).

    Examples
    --------
    >>> from mdf_neel.physics import ParticleParameters
    >>> applies(ParticleParameters(14e-9, 4400.0), 1.25e6), applies(ParticleParameters(26e-9, 8500.0), 1.25e6)
    (True, False)
    >>> slow = ParticleParameters(16e-9, 8600.0)   # τ_1 = 79 ns
    >>> applies(slow, 1.25e6), applies(slow, 455e3, rtol=1e-4)   # Nyquist; the paper's highest row
    (False, True)
    """
    order = choose_order(particle.neel_time_s(), frequency_Hz, rtol)
    if order is None:
        return False
    return max_field_T is None or table_bytes(particle, max_field_T, order) <= MAX_TABLE_BYTES


def table_bytes(particle, max_field_T: float, order: int) -> int:
    """Size [bytes] of the series' table up to ``order`` for fields up to ``max_field_T`` [T],
    at most: the quadrant B_x, B_z >= 0 that is stored, (q + 1)² nodes, q = ⌈u(B_max) / h⌉ +
    STENCIL/2 + 1 with h = TABLE_SPACING kT/m0 and u the graded coordinate (TABLE_GRADING),
    times 3 moments per term (:func:`solve_quasi_static`
    spans the largest field component, at most B_max).

    Examples
    --------
    >>> from mdf_neel.physics import ParticleParameters
    >>> table_bytes(ParticleParameters(16e-9, 8600.0), 0.039, 6) / 2**20   # MiB
    12.6...
    """
    thermal = 1.0 / particle.xi_per_tesla
    half = math.ceil(_to_grid(float(max_field_T), thermal) / (TABLE_SPACING * thermal)) + STENCIL // 2 + 1
    return (half + 1) ** 2 * int(series_terms(order)[0].size) * 3 * 8


def _to_grid(fields_T, thermal_T):
    """The table's uniform coordinate u [T] of fields [T] (:data:`TABLE_GRADING`)."""
    if TABLE_GRADING is None:
        return fields_T
    c = TABLE_GRADING * thermal_T
    return c * np.arcsinh(np.asarray(fields_T) / c)


def _from_grid(u_T, thermal_T):
    """The fields [T] at the table's coordinates u [T] (inverse of :func:`_to_grid`)."""
    if TABLE_GRADING is None:
        return u_T
    c = TABLE_GRADING * thermal_T
    return c * np.sinh(np.asarray(u_T) / c)


def nyquist_frequency_Hz(times_s) -> float:
    """The Nyquist frequency [Hz] of uniform samples ``times_s`` [s]: the highest frequency
    m̄(t) itself carries, and the series' default (inf for a single sample).

    Examples
    --------
    >>> nyquist_frequency_Hz(np.arange(5) * 0.4e-6)   # 2.5 MHz sampling
    1250000.0
    """
    t = np.asarray(times_s, dtype=np.float64)
    return float(0.5 * (t.size - 1) / (t[-1] - t[0])) if t.size > 1 else math.inf


def choose_order(tau_s: float, frequency_Hz: float, rtol: float) -> int | None:
    """Lowest order K whose truncation, about (2π f τ)^(K+1) relative at the frequency f,
    is within ``rtol``; None where 2π f τ > MAX_EPS (the expansion does not apply) or
    even MAX_ORDER does not reach ``rtol``.

    Examples
    --------
    >>> choose_order(10e-9, 1.25e6, 1e-4)     # 2π f τ = 0.079: 0.079^4 = 3.8e-5
    3
    >>> choose_order(100e-9, 1.25e6, 1e-4) is None   # 0.79: the series does not apply
    True
    """
    eps = 2.0 * math.pi * frequency_Hz * tau_s
    if eps > MAX_EPS:
        return None
    for k in range(MAX_ORDER + 1):
        if eps ** (k + 1) <= rtol:
            return k
    return None


def field_derivatives(fields_xz, dt, order):
    """Time derivatives 1 … order of periodic sampled fields, exact in Fourier space.

    fields_xz (nb, T, 2) [T] -> (nb, T, 2·order), variable 2(r − 1) + k the r-th
    derivative of component k [T/s^r]."""
    nb, T, _ = fields_xz.shape
    spec = np.fft.rfft(fields_xz, axis=1)
    w = 2.0 * np.pi * np.fft.rfftfreq(T, d=dt)
    out = np.zeros((nb, T, 2 * max(order, 1)))
    for r in range(1, order + 1):
        factor = (1j * w) ** r
        if T % 2 == 0 and r % 2 == 1:
            factor[-1] = 0.0  # the Nyquist bin has no odd derivative on the grid
        out[:, :, 2 * (r - 1) : 2 * r] = np.fft.irfft(spec * factor[None, :, None], n=T, axis=1)
    return out


def quadrant_signs(exponents):
    """(4, nt · 3) factors that map the table's quadrant B_x, B_z >= 0 onto the others, row
    (B_x < 0) + 2 (B_z < 0), by the two exact symmetries of the operator family: R, the
    rotation by π about the easy axis ((B_x, B_z) → (−B_x, B_z), m → (−m_x, −m_y, m_z)), and
    S, the mirror through the field plane acting on axial vectors ((B_x, B_z) → (−B_x, −B_z),
    m → (−m_x, m_y, −m_z)); R S maps (B_x, B_z) → (B_x, −B_z). A term's monomial of field
    derivatives changes sign with the field components it holds an odd number of, so its
    table does too.

    Examples
    --------
    >>> _, exponents, *_ = series_terms(1)
    >>> exponents.tolist()     # f_0, and the first-order terms of Ḃ_z and Ḃ_x
    [[0, 0], [0, 1], [1, 0]]
    >>> quadrant_signs(exponents)[1].reshape(3, 3).tolist()   # B_x < 0 (R): Ḃ_x is odd in it
    [[-1.0, -1.0, 1.0], [-1.0, -1.0, 1.0], [1.0, 1.0, -1.0]]
    """
    odd_x = exponents[:, 0::2].sum(axis=1) % 2 == 1
    odd_z = exponents[:, 1::2].sum(axis=1) % 2 == 1
    signs = np.ones((4, exponents.shape[0], 3))
    for code, sx, sz, m_sign in (
        (1, -1, 1, (-1.0, -1.0, 1.0)),  # R
        (2, 1, -1, (1.0, -1.0, -1.0)),  # R S
        (3, -1, -1, (-1.0, 1.0, -1.0)),  # S
    ):
        term = np.where(odd_x, sx, 1) * np.where(odd_z, sz, 1)
        signs[code] = term[:, None] * np.asarray(m_sign)[None, :]
    return signs.reshape(4, -1)


def solve_quasi_static(times, fr, disc, particle, order):
    """m̄(t) (axis frame, (nb, T, 3)) of a batch of periodic axis-frame fields ``fr``
    (nb, T, 3) with B_y = 0, from the series up to ``order``; returns (m, info).
    ``info["quasi_static_increments"]`` (nb, T, 2, 3) holds the contributions of the orders
    ``order − 1`` and ``order``: how fast the series converges on this batch."""
    t0 = time.perf_counter()
    nb, T, _ = fr.shape
    dt = (times[-1] - times[0]) / (T - 1)
    thermal = 1.0 / particle.xi_per_tesla
    h = TABLE_SPACING * thermal
    xz = np.ascontiguousarray(fr[..., (0, 2)])
    # the table is uniform in u; its nodes are the fields at u = h·(i − half), symmetric about 0
    uz = np.ascontiguousarray(_to_grid(xz, thermal))
    reach = float(np.max(np.abs(uz), initial=0.0)) + (STENCIL // 2 + 1) * h
    half = int(math.ceil(reach / h))
    nx = 2 * half + 1
    x0 = -half * h
    nodes = _from_grid(x0 + h * np.arange(nx), thermal)
    term_order, exponents, src, kind, coef = series_terms(order)
    need = qk.mark_needed(uz[..., 0], uz[..., 1], x0, x0, h, STENCIL, nx, nx)
    # solve the quadrant B_x, B_z >= 0 and read the rest from it by symmetry (:func:`quadrant_signs`)
    up, down = slice(half, None), slice(half, None, -1)
    quadrant = need[up, up] | need[down, up] | need[down, down] | need[up, down]
    with single_threaded_blas():
        qtable = qk.series_table(
            nodes[half:],
            nodes[half:],
            quadrant,
            disc.indptr,
            disc.indices,
            disc.vals,
            disc.kl,
            disc.ku,
            disc.i0,
            disc.c00,
            1.0 / particle.tau_s,
            disc.mom_idx,
            disc.mom_scale,
            term_order,
            src,
            kind,
            coef,
            int(order),
        )
    t_table = time.perf_counter() - t0
    derivs = field_derivatives(xz, dt, order)
    mom, increments = qk.evaluate_series(
        qtable, half, x0, h, STENCIL, uz, derivs, exponents, quadrant_signs(exponents), term_order
    )
    info = {
        "quasi_static_increments": increments,
        "quasi_static_order": int(order),
        "quasi_static_terms": int(term_order.size),
        "quasi_static_nodes": int(quadrant.sum()),
        "quasi_static_spacing_T": h,
        "quasi_static_table_s": t_table,
        "quasi_static_wall_s": time.perf_counter() - t0,
        "steps": np.zeros(nb, dtype=np.int64),
        "lu_factorisations": np.zeros(nb, dtype=np.int64),
        "periods": np.zeros(nb),
        "steady_state_residual": np.zeros(nb),
    }
    logger.info(
        "Néel FP quasi-static: order %d (%d terms), %d table nodes at %.3g mT in %.2f s, %d members in %.2f s",
        order,
        term_order.size,
        info["quasi_static_nodes"],
        1e3 * h,
        t_table,
        nb,
        info["quasi_static_wall_s"],
    )
    return mom, info
