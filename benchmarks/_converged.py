"""Converged references of checked members and the true contract errors of a batch (shared by
the benchmarks that hold simulated rows against converged solves)."""

from __future__ import annotations

import numpy as np

#: per-step tolerance of the converged reference (100x tighter than the loosest default batch)
REFERENCE_STEP_TOLERANCE = 2.5e-8


def converged_members(seq, offsets, angles, a_idx, o_idx, *, diameter_m, anisotropy_Jm3, rows):
    """Rows (M, C, F) of members (angle a_idx[j], offset o_idx[j]), each solved alone with the
    full model at degree + 4 (degree for m̄ at 1e-6) and REFERENCE_STEP_TOLERANCE."""
    from mdf_neel.simulate._system_functions import angle_system_functions, neel_resolution

    degree = neel_resolution(seq, offsets[o_idx], diameter_m=diameter_m, anisotropy_Jm3=anisotropy_Jm3, rtol=1e-6)
    return np.stack(
        [
            angle_system_functions(
                seq,
                offsets[o : o + 1],
                angles_deg=[angles[a]],
                diameter_m=diameter_m,
                anisotropy_Jm3=anisotropy_Jm3,
                frequencies=rows,
                method="full",
                resolution=degree + 4,
                step_tolerance=REFERENCE_STEP_TOLERANCE,
            )[0, :, :, 0]
            for a, o in zip(a_idx, o_idx)
        ]
    )


def true_errors(phi, reference, a_idx, o_idx):
    """Contract errors (RMS, max) of the checked members of ``phi`` (A, C, F, O): each entry
    normalised by its row's peak over the whole batch of its angle, with the contract's floor."""
    from mdf_neel.simulate import accuracy

    row_peak = np.abs(phi).max(axis=-1)  # (A, C, F)
    norm = np.maximum(row_peak, accuracy.ROW_FLOOR * row_peak.max(axis=(1, 2), keepdims=True))[a_idx]
    diff = np.abs(phi[a_idx, :, :, o_idx] - reference) / norm  # (M, C, F)
    return accuracy.contract_summary(np.sqrt(np.mean(diff**2, axis=0)))
