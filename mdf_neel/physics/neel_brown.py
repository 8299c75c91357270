"""Combined Néel–Brown rotation: the joint Fokker–Planck equation of moment and body.

A particle in a liquid whose moment also turns inside the body is described by the joint
density f(m, n, t) of the moment direction m and the easy axis n of its body, both on the
unit sphere (J. Weizenecker, "The Fokker–Planck equation for coupled Brown–Néel-rotation",
Phys. Med. Biol. 63 (2018) 035004). With the reduced energy ``βE = −σ (m·n)² − ξ·m``
(σ = K Vc/(kB T), ξ = Ms Vc B/(kB T), B = µ0·H in tesla)::

    ∂t f = L_N f + L_B f,
    L_N f = ∇_m·((1/2τ) ∇_m f − b f),
            b = p1 B×m + p2 (m×B)×m + p3 (n·m) n×m + p4 (n·m)(m×n)×m,
    L_B f = 1/(2τ_B) J·(J f + f J βE),   J = m×∇_m + n×∇_n,   τ_B = 3 η V_h/(kB T).

At fixed n, L_N is exactly the operator of :mod:`mdf_neel.physics.neel` with easy axis n
(τ, p1…p4 of :class:`~mdf_neel.physics.ParticleParameters`): the moment's motion relative
to the lattice. L_B is Brown's rotational diffusion of the whole particle
(:mod:`mdf_neel.physics.brown`): J generates rigid rotations of the pair, so a turn of the
body carries the moment with it. The anisotropy is invariant under them (J (m·n)² = 0),
so the body is turned by the field torque on the moment alone, J βE = −m×ξ, whatever
K: the Gilbert friction passes the torque the lattice does not take through the anisotropy
(overdamped torque balance: ζ_N (ω_m − ω_B) = T_m, ζ_B ω_B = T_m + T_body with the
anisotropy torques T_body = −T_m,anis). Consequences: at K = 0 the m-marginal relaxes
through both channels in parallel (1/τ + 1/τ_B); a moment locked to its axis (σ → ∞,
no Néel flips) turns with Brown's τ_B. The stationary density is the joint Boltzmann
density ∝ exp(σ (m·n)² + ξ·m), whose m-marginal is the Langevin density (the integral
over a free n removes the anisotropy).

Neglected: inertia of moment and body; the gyromagnetic coupling between the moment's
angular momentum and the body's rotation (Einstein–de Haas, Barnett: the precession is
the lattice-free γ̃ B×m); particle–particle interactions; hydrodynamic coupling beyond
the Stokes drag of a sphere (no shape, no wall, no flow); the rotation of the body about
its own easy axis (it does not change the energy of a uniaxial particle).

Discretisation: the product basis Y_i(m) Z_k(n) of real orthonormal spherical harmonics
(:mod:`mdf_neel.physics.neel.sh_operators`), degree ≤ L_m in m and even degrees ≤ L_n in
n (the energy is even in n, so an even density stays even). Every operator is the
transpose of its backward generator, a sum of Kronecker products of single-sphere
Galerkin matrices: multiplication by m_a, n_a n_b and the rotation generators J_k of m
and R_k of n (Δ = Σ R_k R_k):

* L_N: ``Δ_m ⊗ 1``, the field terms ``(p1 J_k + p2 D_k) ⊗ 1`` (D_k = (∇_S)_k) and the
  anisotropy terms ``Σ_ab (p3 M_a J_b + p4 M_a D_b) ⊗ N_ab`` (N_ab: multiplication by
  n_a n_b), products formed in the basis extended by two degrees (no aliasing);
* L_B: ``Δ_m ⊗ 1 + 1 ⊗ Δ_n + 2 Σ_k J_k ⊗ R_k`` and, per unit ξ_a,
  ``D_a ⊗ 1 + Σ_kb ε_kba M_b ⊗ R_k`` (the m-part is Brown's field term).

The coefficient (Y_00, Z_00) row of every matrix is zero: probability is conserved.
Time stepping: Rodas5P (the Néel solver's L-stable Rosenbrock method,
:mod:`mdf_neel.physics.neel.stepping`) on A(t) = A0 + Σ_k B_k(t) A_k, one sparse LU
(SuperLU) of I − hγA per step. The LU fills in almost completely (the field and the
body's rotation couple neighbouring m-harmonics across the n-harmonics, the anisotropy
neighbouring n-harmonics), so a step costs O(n³) with n = (L_m + 1)² · (L_n + 1)(L_n + 2)/2:
2000–3000× the cost of ``"neel"`` per trajectory on the paper's drive
(``benchmarks/neel_brown_cost.py``). Periodic steady states: two period integrations from
the joint Boltzmann density, then up to :data:`SHOOTING_ROUNDS` rounds of GMRES on the
linear period map (Newton–Krylov shooting) where they do not close.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from scipy.interpolate import CubicSpline
from scipy.sparse.linalg import LinearOperator, gmres, splu

from .neel.resolution import MAX_AUTO_DEGREE, RESOLUTION_FACTOR, choose_resolution
from .neel.stepping import (
    RODAS_A,
    RODAS_ALPHA,
    RODAS_C,
    RODAS_D,
    RODAS_EMBEDDED_ORDER,
    RODAS_GAMMA,
    RODAS_H,
    RODAS_STAGES,
)
from .neel.sh_operators import _build_unit_operators, _cart, _quadrature, degrees, n_coeffs, real_sh_all
from .particles import ParticleParameters

__all__ = [
    "NeelBrownOperators",
    "neel_brown_operators",
    "choose_degrees",
    "solve_batch",
    "solve_trajectory",
    "METHODS",
]

logger = logging.getLogger("mdf_neel.physics")

#: methods accepted for ``model="neel-brown"`` (one solver: the full product basis)
METHODS = ("auto", "full")
#: longest step in sample intervals (bounds the error of the dense output between steps)
H_MAX_SAMPLES = 4.0
#: per-step tolerance per rtol of m̄ (as the Néel model's default)
STEP_TOL_PER_RTOL = 0.25
#: most rounds of shooting (each up to ``max_newton`` GMRES iterations, one period each)
SHOOTING_ROUNDS = 3

_EPS = np.zeros((3, 3, 3))
_EPS[0, 1, 2] = _EPS[1, 2, 0] = _EPS[2, 0, 1] = 1.0
_EPS[0, 2, 1] = _EPS[2, 1, 0] = _EPS[1, 0, 2] = -1.0


def _clean(op: sp.spmatrix) -> sp.csr_matrix:
    """CSR with the quadrature round-off of entries that vanish by selection rules dropped."""
    out = sp.csr_matrix(op)
    scale = max(1.0, np.abs(out.data).max(initial=0.0))
    out.data[np.abs(out.data) < 1e-11 * scale] = 0.0
    out.eliminate_zeros()
    return out


@lru_cache(maxsize=8)
def _sphere(L: int):
    """Single-sphere matrices on degree ≤ L, as operator matrices Op[out, in] (not transposed).

    Returns ``(M, J, D, MM)``: multiplication by m_a (3), rotation generators J_a = (m×∇)_a
    (3), surface gradient D_a (3), multiplication by m_a m_b (3 × 3), all products formed
    at degree L + 2 and truncated (exact Galerkin matrices)."""
    Le = L + 2
    Ms, Js = _build_unit_operators(Le)
    D = [-sum(_EPS[a, b, c] * (Ms[b] @ Js[c]) for b in range(3) for c in range(3) if _EPS[a, b, c]) for a in range(3)]
    n = n_coeffs(L)

    def trunc(op):
        return _clean(sp.csr_matrix(op)[:n, :n])

    MM = [[trunc(Ms[a] @ Ms[b]) for b in range(3)] for a in range(3)]
    # products with one more multiplication are formed here, before truncation
    MJ = [[trunc(Ms[a] @ Js[b]) for b in range(3)] for a in range(3)]
    MD = [[trunc(Ms[a] @ D[b]) for b in range(3)] for a in range(3)]
    return (
        [trunc(Ms[a]) for a in range(3)],
        [trunc(Js[a]) for a in range(3)],
        [trunc(D[a]) for a in range(3)],
        MM,
        MJ,
        MD,
    )


def _even_index(L: int) -> np.ndarray:
    """Basis indices of the even degrees ≤ L."""
    return np.flatnonzero(degrees(L) % 2 == 0)


def choose_degrees(xi_max: float, sigma: float, rtol: float, resolution: int | None = None) -> tuple[int, int]:
    """Degrees (L_m, L_n) of the product basis for a target accuracy of m̄.

    L_m is the Néel model's degree (:func:`mdf_neel.physics.choose_resolution`; at fixed n
    the m-part is the Néel operator), or ``resolution``. The n-dependence of the density
    comes from the anisotropy alone (without it the density stays uniform in n): the axes gather about
    ±m with the angular width 1/sqrt(2σ) of the well, so L_n = ⌈1 + 0.9 sqrt((2σ + 1)
    ln(10/rtol))⌉ (the Néel rule's form with that width), rounded up to even and at most
    L_m rounded up to even; L_n = 0 at σ = 0. At σ = 1.06 and rtol = 1e-3 this gives L_n = 6, where the
    measured error of the axis truncation of m̄ is 6.9e-5 (4 gives 6.0e-4; frozen bodies
    under an 8 mT drive, tests/physics/test_neel_brown.py).

    Parameters
    ----------
    xi_max : float
        Largest reduced field ξ on the trajectory.
    sigma : float
        Reduced barrier K Vc/(kB T).
    rtol : float
        Target relative accuracy of m̄.
    resolution : int, optional
        Explicit L_m.

    Returns
    -------
    (int, int)

    Examples
    --------
    >>> from mdf_neel.physics.neel_brown import choose_degrees
    >>> choose_degrees(10.0, 1.5, 1e-3)
    (11, 8)
    >>> choose_degrees(10.0, 1.5, 1e-3, resolution=4)
    (4, 4)
    """
    lm = int(resolution) if resolution is not None else choose_resolution(xi_max, sigma, rtol)
    ln = math.ceil(1.0 + RESOLUTION_FACTOR * math.sqrt((2.0 * max(sigma, 0.0) + 1.0) * math.log(10.0 / rtol)))
    if sigma <= 0.0:
        return lm, 0  # without anisotropy the density never depends on n (it stays uniform in n)
    ln = min(ln + ln % 2, lm + lm % 2)
    return lm, max(2, ln)


class NeelBrownOperators:
    """Galerkin matrices of the joint equation for one particle and degrees (L_m, L_n).

    Coefficients are stored m-major: ``c[i * n_n + k]`` multiplies Y_i(m) Z_k(n), Z_k the
    even-degree harmonics. The joint uniform density has c_00 = 1/(4π).

    Attributes
    ----------
    A0 : scipy.sparse.csr_matrix, shape (n, n)
        Field-free part [1/s].
    A_field : list of scipy.sparse.csr_matrix, shape (n_m, n_m)
        m-part of the field terms per tesla of B_x, B_y, B_z [1/(s T)]; the full term is
        ``kron(A_field[k], 1)``.
    n_m, n_n, size : int
        Number of m-harmonics, of n-harmonics and of unknowns.
    """

    def __init__(self, particle: ParticleParameters, degree_m: int, degree_n: int):
        if not isinstance(particle, ParticleParameters):
            raise TypeError(f"particle must be a ParticleParameters, got {type(particle).__name__}")
        if degree_m < 1 or degree_n < 0 or degree_n % 2:
            raise ValueError(f"degrees must be L_m >= 1 and an even L_n >= 0, got ({degree_m}, {degree_n})")
        self.particle = particle
        self.degree_m, self.degree_n = int(degree_m), int(degree_n)
        Lm, Ln = self.degree_m, self.degree_n
        Mm, Jm, Dm, _, MJm, MDm = _sphere(Lm)
        _, Jn, _, MMn, _, _ = _sphere(max(Ln, 1))
        ev = _even_index(max(Ln, 1))

        def even(op):
            return sp.csr_matrix(op)[ev][:, ev]

        Nn = [[even(MMn[a][b]) for b in range(3)] for a in range(3)]
        Rn = [even(Jn[r]) for r in range(3)]
        self.n_m, self.n_n = n_coeffs(Lm), ev.size
        self.size = self.n_m * self.n_n
        lm = degrees(Lm).astype(float)
        ln = degrees(max(Ln, 1))[ev].astype(float)
        Im, In = sp.identity(self.n_m, format="csr"), sp.identity(self.n_n, format="csr")
        p = particle
        tau, sigma = p.tau_s, p.sigma
        d_b = 1.0 / (2.0 * p.brown_time_s)  # rotational diffusion constant of the body [1/s]
        # Néel diffusion in m, and the body's rotation J² = Δ_m + Δ_n + 2 Σ_k J_k ⊗ R_k (symmetric)
        terms = [
            sp.kron(sp.diags(-lm * (lm + 1.0) * (1.0 / (2.0 * tau) + d_b)), In),
            sp.kron(Im, sp.diags(-d_b * ln * (ln + 1.0))),
        ]
        terms += [(2.0 * d_b) * sp.kron(Jm[k], Rn[k]).T for k in range(3)]
        if sigma > 0.0:
            for a in range(3):
                for b in range(3):
                    # Néel anisotropy at axis n: Σ_ab n_a n_b (p3 M_a J_b + p4 M_a D_b), transposed
                    km = (p.p3 * MJm[a][b] + p.p4 * MDm[a][b]).T
                    terms.append(sp.kron(km, Nn[a][b]))
        self.A0 = _clean(sum(terms[1:], terms[0]))
        # field per tesla of B_a: Néel (p1 J_a + p2 D_a) and the body's turn by the field torque
        # on m, D_B ξ_T Σ_kb ε_kba M_b J_k with J_k = J_k ⊗ 1 + 1 ⊗ R_k (its m-part is D_a), transposed
        xt = p.xi_per_tesla
        self.A_field = [_clean((p.p1 * Jm[a] + (p.p2 + d_b * xt) * Dm[a]).T) for a in range(3)]
        self.A_cross = []
        for a in range(3):
            cross = sum(_EPS[k, b, a] * sp.kron(Mm[b], Rn[k]) for k in range(3) for b in range(3) if _EPS[k, b, a])
            self.A_cross.append(_clean((d_b * xt) * cross.T))
        # the Jacobian A0 + Σ B_k A_k on one sparsity pattern, so that it is assembled by data only
        full = [self.A0] + [(sp.kron(self.A_field[k], In) + self.A_cross[k]).tocsr() for k in range(3)]
        full.append(sp.identity(self.size, format="csr"))
        pattern = sum((abs(x) for x in full[1:]), abs(full[0])).tocsr()
        pattern.sort_indices()
        self._indptr, self._indices = pattern.indptr, pattern.indices
        self._data = np.stack([self._on_pattern(x, pattern) for x in full])
        self._nn_index = Nn
        self._moment_rows = np.array([3, 1, 2])  # Y_{1,1} ∝ x, Y_{1,-1} ∝ y, Y_{1,0} ∝ z

    @staticmethod
    def _on_pattern(x, pattern):
        """Data of ``x`` laid out on the (superset) sparsity pattern ``pattern``."""
        pat = pattern.tocoo()
        lookup = sp.csr_matrix(x)
        vals = np.asarray(lookup[pat.row, pat.col]).ravel()
        order = np.lexsort((pat.col, pat.row))  # CSR order of the sorted pattern
        return vals[order]

    # ---- operators ---------------------------------------------------------------------
    def matrix(self, b) -> sp.csr_matrix:
        """A(B) = A0 + Σ_k B_k A_k as CSR, shape (n, n) [1/s]; ``b`` the field [T] (3,)."""
        data = self._data[0] + b[0] * self._data[1] + b[1] * self._data[2] + b[2] * self._data[3]
        return sp.csr_matrix((data, self._indices, self._indptr), shape=(self.size, self.size))

    def factor(self, b, hg):
        """Sparse LU (SuperLU) of the transpose of W = I − hg·A(B); ``lu.solve(r, trans="T")``
        solves W x = r. ``b`` the field [T] (3,), ``hg`` [s]."""
        d = self._data
        data = d[4] - hg * (d[0] + b[0] * d[1] + b[1] * d[2] + b[2] * d[3])
        # the CSR arrays of W are the CSC arrays of Wᵀ: no conversion
        return splu(sp.csc_matrix((data, self._indices, self._indptr), shape=(self.size, self.size)))

    def apply(self, c, b, field_only=False) -> np.ndarray:
        """A(B) c for coefficients (n,) and a field (3,) [T]; the field terms alone
        (Σ_k B_k A_k c) with ``field_only``."""
        out = np.zeros(self.size) if field_only else self.A0 @ c
        C = c.reshape(self.n_m, self.n_n)
        for k in range(3):
            if b[k] != 0.0:
                out += b[k] * ((self.A_field[k] @ C).ravel() + self.A_cross[k] @ c)
        return out

    # ---- densities and moments ---------------------------------------------------------
    def uniform(self) -> np.ndarray:
        """Coefficients of the uniform joint density, shape (n,)."""
        c = np.zeros(self.size)
        c[0] = 1.0 / (4.0 * math.pi)
        return c

    def boltzmann(self, b) -> np.ndarray:
        """Coefficients of the joint Boltzmann density ∝ exp(σ(m·n)² + ξ·m) at field b [T].

        Projected with product Gauss rules exact to degree 2·max(2L, L + 16) + 2."""
        p = self.particle
        qm, qn = max(2 * self.degree_m, self.degree_m + 16), max(2 * self.degree_n, self.degree_n + 16)
        thm, phm, wm = _quadrature(qm)
        thn, phn, wn = _quadrature(qn)
        xm, xn = _cart(thm, phm), _cart(thn, phn)
        Ym = np.concatenate(real_sh_all(self.degree_m, thm, phm))  # (n_m, Pm)
        Zall = np.concatenate(real_sh_all(max(self.degree_n, 1), thn, phn))
        Zn = Zall[degrees(max(self.degree_n, 1)) % 2 == 0][: self.n_n]
        xi = p.xi_per_tesla * np.asarray(b, dtype=float)
        e = p.sigma * (xm.T @ xn) ** 2 + (xi @ xm)[:, None]
        F = np.exp(e - e.max())
        C = (Ym * wm) @ F @ (Zn * wn).T
        return (C / (4.0 * math.pi * C[0, 0])).ravel()

    def stationary(self, b) -> np.ndarray:
        """Null vector of A(B) normalised to probability 1 (the discrete stationary density)."""
        A = self.matrix(np.asarray(b, dtype=float)).tolil()
        A[0, :] = 0.0
        A[0, 0] = 1.0  # the mass row: c_00 = 1/(4π) replaces the (zero) conservation row
        rhs = np.zeros(self.size)
        rhs[0] = 1.0 / (4.0 * math.pi)
        return splu(A.tocsc()).solve(rhs)

    def moment(self, c) -> np.ndarray:
        """Mean moment ⟨m⟩ (3,) or (..., 3) of coefficients (..., n), normalised by m0."""
        c = np.asarray(c)
        C = c.reshape(c.shape[:-1] + (self.n_m, self.n_n))
        return math.sqrt(4.0 * math.pi / 3.0) * math.sqrt(4.0 * math.pi) * C[..., self._moment_rows, 0]

    def orientation_tensor(self, c) -> np.ndarray:
        """⟨n_a n_b⟩ (3, 3) of coefficients (n,): the order tensor of the easy axes (trace 1)."""
        C = np.asarray(c).reshape(self.n_m, self.n_n)
        out = np.empty((3, 3))
        for a in range(3):
            for b in range(3):
                out[a, b] = 4.0 * math.pi * (self._nn_index[a][b][:, 0].toarray().ravel() @ C[0])
        return out


@lru_cache(maxsize=8)
def neel_brown_operators(particle: ParticleParameters, degree_m: int, degree_n: int) -> NeelBrownOperators:
    """Cached :class:`NeelBrownOperators` for a particle and degrees (L_m, L_n).

    Examples
    --------
    >>> from mdf_neel.physics import ParticleParameters
    >>> from mdf_neel.physics.neel_brown import neel_brown_operators
    >>> p = ParticleParameters(diameter_m=16e-9, anisotropy_Jm3=3000, hydrodynamic_diameter_m=20e-9)
    >>> ops = neel_brown_operators(p, 6, 4)
    >>> ops.n_m, ops.n_n, ops.size
    (49, 15, 735)
    >>> import numpy as np
    >>> c = ops.stationary(np.array([0.0, 0.0, 5e-3]))
    >>> float(abs(ops.apply(c, np.array([0.0, 0.0, 5e-3]))).max()) < 1e-6
    True
    """
    return NeelBrownOperators(particle, degree_m, degree_n)


@dataclass
class _Run:
    """Statistics of one member's solve."""

    steps: int = 0
    lu: int = 0
    periods: float = 0.0
    residual: float = 0.0


def _integrate(ops, field, t0, t1, c0, t_eval, tol, h_max, run):
    """Rodas5P from c0 at t0 to t1: coefficients at ``t_eval`` (k, n) (None: not kept) and at t1.

    ``field(t)`` returns the field and its time derivative, two arrays (3,) [T], [T/s].
    One sparse LU of I − hγA(B(t)) per step serves all eight stages (the Néel solver's
    scheme, :mod:`mdf_neel.physics.neel.stepping`); a step is accepted when the 2-norm of
    its embedded error, scaled as the Néel model's coefficients (the m-marginal's,
    √(4π)·c_i0, and likewise for every n-harmonic), is at most ``tol``."""
    s = RODAS_STAGES
    err_scale = math.sqrt(4.0 * math.pi) / tol
    y = np.array(c0, dtype=float)
    out = None if t_eval is None else np.empty((t_eval.size, ops.size))
    k = 0
    if t_eval is not None:
        while k < t_eval.size and t_eval[k] <= t0 + 1e-12 * h_max:
            out[k] = y
            k += 1
    t, h = t0, min(h_max, 1e-3 * (t1 - t0) if t1 > t0 else h_max)
    u = np.empty((s, ops.size))
    while t < t1 - 1e-12 * (t1 - t0):
        h = min(h, t1 - t)
        hg = h * RODAS_GAMMA
        b, db = field(t)
        lu = ops.factor(b, hg)
        run.lu += 1
        ft = ops.apply(y, db, field_only=True)  # A'(t) y, through the field's derivative
        bst = b
        for st in range(s):
            ystage = y.copy()
            rhs = (RODAS_D[st] * h) * ft
            for j in range(st):
                if RODAS_A[st, j] != 0.0:
                    ystage += RODAS_A[st, j] * u[j]
                rhs += (RODAS_C[st, j] / h) * u[j]
            if st > 0 and RODAS_ALPHA[st] != RODAS_ALPHA[st - 1]:
                bst = field(t + RODAS_ALPHA[st] * h)[0]
            rhs += ops.apply(ystage, bst)
            u[st] = lu.solve(hg * rhs, trans="T")
        en = err_scale * np.linalg.norm(u[s - 1])
        fac = min(4.0, max(0.2, 0.85 * (en + 1e-12) ** (-1.0 / (RODAS_EMBEDDED_ORDER + 1))))
        if en > 1.0 and h > 1e-9 * h_max:
            h *= fac
            continue
        ynew = ystage + u[s - 1]
        run.steps += 1
        if t_eval is not None and k < t_eval.size and t_eval[k] <= t + h + 1e-12 * h:
            kq = RODAS_H @ u  # dense output of the step (order 4)
            while k < t_eval.size and t_eval[k] <= t + h + 1e-12 * h:
                th = min(max((t_eval[k] - t) / h, 0.0), 1.0)
                inner = kq[0] + th * (kq[1] + th * kq[2])
                out[k] = (1.0 - th) * y + th * (ynew + (1.0 - th) * inner)
                k += 1
        y = ynew
        t += h
        h = min(h * fac, h_max)
    return out, y


def solve_trajectory(
    times,
    fields,
    particle: ParticleParameters,
    *,
    degrees_mn,
    tol,
    steady_state,
    initial,
    rtol,
    max_newton=8,
    all_coefficients=False,
):
    """One member: m̄ (T, 3) and the final coefficients (periodic steady state or initial-value run).

    Parameters
    ----------
    times : numpy.ndarray, shape (T,)
        Uniform sample times [s].
    fields : numpy.ndarray, shape (T, 3)
        µ0·H [T].
    particle : ParticleParameters
    degrees_mn : (int, int)
        (L_m, L_n).
    tol : float
        Per-step tolerance (2-norm of the step error of the coefficients, scaled as the
        Néel model's: the m-marginal's single-sphere coefficients).
    steady_state : bool
    initial : {"equilibrium", "uniform"} or numpy.ndarray
        Start of an initial-value run (the joint Boltzmann density at the first field, the
        uniform density, or coefficients (n,)); steady states start from the Boltzmann density.
    rtol : float
        Periodicity tolerance of a steady state (relative to the uniform density).
    max_newton : int
        Most GMRES iterations of the shooting (period integrations).
    all_coefficients : bool
        Return the coefficients at every sample (T, n) instead of the last.

    Returns
    -------
    m : numpy.ndarray, shape (T, 3)
    c : numpy.ndarray, shape (n,) or (T, n)
        Coefficients at the last sample (initial-value run) or at the period's start; at
        every sample with ``all_coefficients``.
    run : dict
        ``steps`` (accepted steps), ``lu_factorisations``, ``periods``,
        ``steady_state_residual``.

    Examples
    --------
    >>> import numpy as np
    >>> from mdf_neel.physics import ParticleParameters
    >>> from mdf_neel.physics.neel_brown import solve_trajectory
    >>> p = ParticleParameters(diameter_m=14e-9, anisotropy_Jm3=2000, hydrodynamic_diameter_m=16e-9)
    >>> t = np.arange(16) * 1e-6 / 16
    >>> b = np.zeros((16, 3)); b[:, 2] = 10e-3
    >>> m, c, run = solve_trajectory(t, b, p, degrees_mn=(6, 4), tol=1e-6, steady_state=True,
    ...                              initial="equilibrium", rtol=1e-4)
    >>> from mdf_neel.physics import langevin
    >>> bool(abs(m[:, 2] - langevin(p.xi_per_tesla * 10e-3)).max() < 1e-3)
    True
    """
    ops = neel_brown_operators(particle, *degrees_mn)
    T = times.size
    dt = (times[-1] - times[0]) / (T - 1)
    run = _Run()
    h_max = H_MAX_SAMPLES * dt
    if steady_state:
        period = T * dt
        x = times[0] + dt * np.arange(T + 1)
        spline = CubicSpline(x, np.concatenate([fields, fields[:1]]), bc_type="periodic" if T >= 3 else "not-a-knot")
        dspline = spline.derivative()

        def field(t):
            s = times[0] + (t - times[0]) % period
            return spline(s), dspline(s)

        c0 = ops.boltzmann(fields[0])
        t1 = times[0] + period

        def period_map(c):
            run.periods += 1
            return _integrate(ops, field, times[0], t1, c, None, tol, h_max, run)[1]

        # two periods from the Boltzmann density: with their contraction λ the distance of
        # c1 to the periodic state is at most |c2 − c1|/(1 − λ); shoot where that exceeds 0.1·rtol
        c1 = period_map(c0)
        c2 = period_map(c1)
        d1, d2 = np.linalg.norm(c1 - c0), np.linalg.norm(c2 - c1)
        lam = min(d2 / d1, 0.999) if d1 > 0.0 else 0.0
        c_prev, c, res = c1, c2, 4.0 * math.pi * d2
        scale = np.linalg.norm(c0)

        def matvec(v):
            # Φ is linear; the step control is absolute, so integrate v at the density's size
            nv = np.linalg.norm(v)
            if nv == 0.0:
                return np.zeros_like(v)
            return v - period_map(v * (scale / nv)) * (nv / scale)

        op = LinearOperator((ops.size, ops.size), matvec=matvec, dtype=float)
        for _ in range(SHOOTING_ROUNDS if max_newton > 0 else 0):
            if res / (1.0 - lam) <= 0.1 * rtol:
                break
            # Newton–Krylov shooting on the linear period map Φ: (1 − Φ) δ = Φc − c (δ mass-free)
            delta, _ = gmres(op, c - c_prev, x0=np.zeros(ops.size), rtol=1e-3, atol=0.0, restart=max_newton, maxiter=1)
            c_prev = c_prev + delta
            c_prev = c_prev / (4.0 * math.pi * c_prev[0])
            c = period_map(c_prev)
            res = 4.0 * math.pi * np.linalg.norm(c - c_prev)
        run.residual = res
        if res > rtol:
            logger.warning("neel-brown steady state: periodicity residual %.2g above rtol %.2g", res, rtol)
        ys, _ = _integrate(ops, field, times[0], t1, c, times, tol, h_max, run)
        run.periods += 1
        cend = c
    else:
        spline = CubicSpline(times, fields, axis=0)
        dspline = spline.derivative()

        def field(t):
            s = min(max(t, times[0]), times[-1])
            return spline(s), dspline(s)

        if isinstance(initial, np.ndarray):
            c0 = initial
        elif initial == "uniform":
            c0 = ops.uniform()
        else:
            c0 = ops.boltzmann(fields[0])
        ys, cend = _integrate(ops, field, times[0], times[-1], c0, times, tol, h_max, run)
        run.periods = 1.0
    info = {
        "steps": run.steps,
        "lu_factorisations": run.lu,
        "periods": run.periods,
        "steady_state_residual": run.residual,
    }
    return ops.moment(ys), (ys if all_coefficients else cend), info


def solve_batch(
    times,
    fields,
    particle: ParticleParameters,
    *,
    steady_state,
    initial,
    rtol,
    resolution,
    tol,
    method,
    azimuthal_resolution=None,
    n_threads=None,
    orientation_resolution=None,
):
    """The combined Néel–Brown model for a batch of field trajectories.

    Inputs are validated by the caller (:func:`mdf_neel.physics.mean_magnetization`); every
    member is solved (no symmetry mapping), one after the other.

    Parameters
    ----------
    times : numpy.ndarray, shape (T,)
        Uniform sample times [s].
    fields : numpy.ndarray, shape (T, 3) or (B, T, 3)
        µ0·H [T].
    particle : ParticleParameters
        Core and hydrodynamic diameter, viscosity, K, Ms, α, γ, T all enter.
    steady_state, initial, rtol : as in :func:`mdf_neel.physics.mean_magnetization`
    resolution : int, optional
        Degree L_m of the m-harmonics (default :func:`choose_degrees`).
    tol : float, optional
        Per-step tolerance (default 0.25·rtol).
    method : {"auto", "full"}
        Both mean the product-basis model; the Néel model's reduced and slow-mode methods
        have no counterpart here.
    azimuthal_resolution : None
        Not supported (the body turns, so there is no fixed axis to truncate about).
    n_threads : int, optional
        Unused (scipy's sparse LU is serial); accepted for a uniform call.
    orientation_resolution : int, optional
        Even degree L_n of the n-harmonics (default :func:`choose_degrees`).

    Returns
    -------
    m : numpy.ndarray, shape like ``fields``
        Mean moment normalised by m0 = Ms·Vc.
    info : dict
        ``method`` ("full"), ``resolution`` (L_m), ``orientation_resolution`` (L_n),
        ``n_coefficients``, ``step_tolerance``, per-member ``steps`` (accepted
        steps), ``lu_factorisations``, ``periods``, ``steady_state_residual``;
        ``solved_members``, ``brown_time_s``, ``wall_s``.

    Raises
    ------
    ValueError
        For ``method`` "reduced" or "slow-mode", an ``azimuthal_resolution``, or an odd
        ``orientation_resolution``.

    Examples
    --------
    >>> import numpy as np
    >>> from mdf_neel.physics import ParticleParameters
    >>> from mdf_neel.physics.neel_brown import solve_batch
    >>> p = ParticleParameters(diameter_m=14e-9, anisotropy_Jm3=2000, hydrodynamic_diameter_m=20e-9)
    >>> t = np.arange(24) * 2e-6 / 24
    >>> b = np.zeros((24, 3)); b[:, 0] = 8e-3 * np.cos(2 * np.pi * np.arange(24) / 24)
    >>> m, info = solve_batch(t, b, p, steady_state=True, initial="equilibrium", rtol=1e-3,
    ...                       resolution=4, tol=None, method="auto", orientation_resolution=2)
    >>> m.shape, info["method"], info["resolution"], info["orientation_resolution"]
    ((24, 3), 'full', 4, 2)
    """
    t_start = time.perf_counter()
    if method not in METHODS:
        raise ValueError(
            f"method={method!r} is not available for model='neel-brown' (only the full product-basis model): "
            f"use one of {METHODS}"
        )
    if azimuthal_resolution is not None:
        raise ValueError("azimuthal_resolution is not available for model='neel-brown' (the easy axis turns)")
    if orientation_resolution is not None and (int(orientation_resolution) < 0 or int(orientation_resolution) % 2):
        raise ValueError(f"orientation_resolution must be an even degree >= 0, got {orientation_resolution!r}")
    single = fields.ndim == 2
    fb = fields[None] if single else fields
    bmax = float(np.max(np.linalg.norm(fb, axis=-1), initial=0.0))
    lm, ln = choose_degrees(particle.xi_per_tesla * bmax, particle.sigma, rtol, resolution)
    lm = min(lm, MAX_AUTO_DEGREE) if resolution is None else lm
    if orientation_resolution is not None:
        ln = int(orientation_resolution)
    step_tol = float(tol) if tol is not None else STEP_TOL_PER_RTOL * rtol
    out = np.empty_like(fb)
    runs = []
    for i in range(fb.shape[0]):
        out[i], _, r = solve_trajectory(
            times,
            fb[i],
            particle,
            degrees_mn=(lm, ln),
            tol=step_tol,
            steady_state=steady_state,
            initial=initial,
            rtol=rtol,
        )
        runs.append(r)
    logger.info("neel-brown FP: degrees L_m=%d, L_n=%d, %d members", lm, ln, fb.shape[0])
    info = {
        "method": "full",
        "resolution": lm,
        "orientation_resolution": ln,
        "n_coefficients": neel_brown_operators(particle, lm, ln).size,
        "step_tolerance": step_tol,
        "solved_members": fb.shape[0],
        "brown_time_s": particle.brown_time_s,
        "wall_s": time.perf_counter() - t_start,
    }
    for key in ("steps", "lu_factorisations", "periods", "steady_state_residual"):
        info[key] = np.array([r[key] for r in runs])
    return (out[0] if single else out), info
