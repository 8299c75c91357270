"""Synthetic dictionaries and measured matrices for the fitting tests (no physics)."""

from dataclasses import dataclass

import numpy as np

from mdf_neel.fitting.metrics import frequency_set
from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence
from mdf_neel.systemmatrix import SystemMatrix


@dataclass
class ArrayDictionary:
    """Duck-typed stand-in for mdf_neel.simulate's SystemFunctionDictionary."""

    phi: np.ndarray
    diameters_m: tuple
    anisotropies_Jm3: tuple
    angles_deg: tuple
    frequency_indices: np.ndarray
    channels: tuple
    offsets_T: np.ndarray
    model: str = "synthetic"


SEQ = paper_2d_sequence()
ROWS, ORDERS = frequency_set(SEQ, 3, 3)  # 13 rows: small and fast
GRID = paper_2d_offsets((3, 3))


def random_dictionary(rng, n_d=3, n_k=4, angles=(0.0, 45.0, 90.0, 135.0), rows=ROWS, grid=GRID):
    offsets = grid[0]
    shape = (n_d, n_k, len(angles), 2, len(rows), offsets.shape[0])
    phi = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    return ArrayDictionary(
        phi=phi,
        diameters_m=tuple(16e-9 + 2e-9 * i for i in range(n_d)),
        anisotropies_Jm3=tuple(500.0 * (i + 1) for i in range(n_k)),
        angles_deg=tuple(float(a) for a in angles),
        frequency_indices=np.asarray(rows),
        channels=("x", "y"),
        offsets_T=offsets,
    )


def band_pass(rows, channels=2, phase=0.3):
    """A smooth complex band-pass-like TF (C, F) on the given rfft bins."""
    f = np.asarray(rows, dtype=float)
    mag = (f / 60.0) ** 2 / (1.0 + (f / 60.0) ** 4)
    out = np.empty((channels, f.size), dtype=complex)
    for c in range(channels):
        out[c] = (1.0 + 0.3 * c) * mag * np.exp(1j * (phase + 0.01 * f * (c + 1)))
    return out


def synthesize(dic, weights, angles, tf, noise=0.0, rng=None):
    """Measured data (A, C, F, O): tf[c, f] · Σ_j w_j φ_j(angle) (+ complex noise)."""
    w = np.asarray(weights, dtype=float)
    out = []
    for theta in angles:
        a = int(np.flatnonzero(np.isclose(dic.angles_deg, theta))[0])
        s = np.einsum("dk,dkcfv->cfv", w, dic.phi[:, :, a])
        t = tf[a] if np.ndim(tf) == 3 else tf
        s = t[:, :, None] * s
        if noise:
            s = s + noise * np.max(np.abs(s)) * (rng.normal(size=s.shape) + 1j * rng.normal(size=s.shape))
        out.append(s)
    return np.stack(out)


def as_system_matrices(data, angles, rows=ROWS, grid=GRID, seq=SEQ):
    offsets, size, fov, center = grid
    return [
        SystemMatrix(
            data=d,
            frequency_indices=rows,
            drive_field=seq.drive_field,
            receiver=seq.receiver,
            grid_size=size,
            field_of_view=fov,
            field_of_view_center=center,
            offset_fields_T=offsets,
            method="hybrid",
            easy_axis_angle_deg=float(theta),
        )
        for d, theta in zip(data, angles)
    ]
