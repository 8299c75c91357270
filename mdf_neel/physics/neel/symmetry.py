"""Exact symmetries between the members of a periodic steady-state batch.

In the easy-axis frame (easy axis ẑ, :func:`~mdf_neel.physics.neel.frame.canonical_rotation`)
the Néel Fokker–Planck operator with uniaxial anisotropy is invariant under every proper
rotation that maps the axis line onto itself (n ≡ −n). Among them, the three 180°
rotations about the frame axes

    g_z = diag(−1, −1, 1),   g_x = diag(1, −1, −1),   g_y = diag(−1, 1, −1)

map the frame's xz-plane (where the paper's fields lie) onto itself. A periodic steady
state is also invariant under a circular time shift. So if member j's field is
``B_j(t) = g B_i(t + s)`` for all samples (indices modulo the period), its steady state is
``m_j(t) = g m_i(t + s)`` exactly, and only member i needs a solve.

For the paper's Lissajous sequence (16 and 17 drive periods per repetition) a shift by
half a repetition negates the y drive and keeps the x drive, so the members
(ϑ, offset (x, y)) and (−ϑ, offset (x, −y)) are related by ``g`` = the lab 180° rotation
about x: 737 of the 1452 trajectories per particle type (12 angles × 11 × 11) are
distinct. Reflections are NOT symmetries (they reverse the sense of precession).

Matching is numerical: candidates share rounded shift- and g-invariant features, and a
relation is accepted only if it reproduces every sample to ``atol``; a missed relation
only costs a solve.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SYMMETRIES", "symmetry_classes", "expand_members"]

#: identity and the 180° rotations about the frame axes z, x, y (diagonal entries)
SYMMETRIES = np.array([[1.0, 1.0, 1.0], [-1.0, -1.0, 1.0], [1.0, -1.0, -1.0], [-1.0, 1.0, -1.0]])


def _features(fields):
    """Per member: mean squares of each component and of products (invariant under
    circular shifts and under the sign flips of :data:`SYMMETRIES`), shape (B, 6)."""
    f = fields
    return np.stack(
        [
            np.mean(f[..., 0] ** 2, axis=1),
            np.mean(f[..., 1] ** 2, axis=1),
            np.mean(f[..., 2] ** 2, axis=1),
            np.mean((f[..., 0] * f[..., 1]) ** 2, axis=1),
            np.mean((f[..., 1] * f[..., 2]) ** 2, axis=1),
            np.mean((f[..., 0] * f[..., 2]) ** 2, axis=1),
        ],
        axis=1,
    )


def _best_shift(a, b):
    """Circular shift s maximising Σ_t a(t) · b(t + s) (FFT cross-correlation);
    a, b (T, 3)."""
    fa = np.fft.rfft(a, axis=0)
    fb = np.fft.rfft(b, axis=0)
    corr = np.fft.irfft(np.sum(np.conj(fa) * fb, axis=1), n=a.shape[0])
    return int(np.argmax(corr))


def symmetry_classes(fields, *, atol):
    """Group the members of a periodic batch by exact field symmetries.

    Parameters
    ----------
    fields : numpy.ndarray, shape (B, T, 3)
        Fields in the easy-axis frame [T] over one period (T samples).
    atol : float
        Largest sample difference [T] accepted as equal.

    Returns
    -------
    reps : numpy.ndarray of int, shape (R,)
        Members that are solved (ascending).
    source : numpy.ndarray of int, shape (B,)
        For every member the index into ``reps`` of the member it is mapped from.
    sym : numpy.ndarray of int, shape (B,)
        Row of :data:`SYMMETRIES` g.
    shift : numpy.ndarray of int, shape (B,)
        Sample shift s with ``fields[b, t] = g · fields[reps[source[b]], (t + s) % T]``.
    """
    nb, T, _ = fields.shape
    source = np.empty(nb, dtype=np.int64)
    sym = np.zeros(nb, dtype=np.int64)
    shift = np.zeros(nb, dtype=np.int64)
    scale = max(float(np.max(np.abs(fields), initial=0.0)), 1e-300)
    feats = _features(fields) / scale**2
    keys = [tuple(np.round(f, 9)) for f in feats]
    reps: list[int] = []
    buckets: dict = {}
    for b in range(nb):
        found = False
        for ri in buckets.get(keys[b], ()):
            a = fields[reps[ri]]
            for g in range(SYMMETRIES.shape[0]):
                ga = a * SYMMETRIES[g]
                s = _best_shift(fields[b], ga)
                if np.all(np.abs(fields[b] - np.roll(ga, -s, axis=0)) <= atol):
                    source[b], sym[b], shift[b] = ri, g, s
                    found = True
                    break
            if found:
                break
        if not found:
            buckets.setdefault(keys[b], []).append(len(reps))
            source[b] = len(reps)
            reps.append(b)
    return np.array(reps, dtype=np.int64), source, sym, shift


def expand_members(values, source, sym, shift):
    """Map per-representative time series to every member.

    Parameters
    ----------
    values : numpy.ndarray, shape (R, T, 3)
        Vectors (e.g. m̄) of the representatives in the easy-axis frame.
    source, sym, shift : numpy.ndarray of int, shape (B,)
        From :func:`symmetry_classes`.

    Returns
    -------
    numpy.ndarray, shape (B, T, 3)
        ``out[b, t] = g_b · values[source[b], (t + shift[b]) % T]`` (a new array).
    """
    T = values.shape[1]
    idx = (np.arange(T)[None, :] + shift[:, None]) % T
    return values[source[:, None], idx] * SYMMETRIES[sym][:, None, :]
