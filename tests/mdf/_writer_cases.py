"""Small SystemMatrix / Measurement objects for the writer, validator and inspect tests.

Built from the data model only (never from files), so a test can compare what the
writer stored with what went in.
"""

from __future__ import annotations

import numpy as np

from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence
from mdf_neel.systemmatrix import Acquisition, Experiment, Measurement, Study, SystemMatrix, Tracer

GRID = (5, 4)


def make_sm(
    rng, *, dtype=np.complex64, background=0, select=None, positions=False, tf=False, snr=True, **changes
) -> SystemMatrix:
    """A paper-sequence system matrix on a 5 x 4 offset grid with random data.

    background: number of background frames E; select: 0-based bins to keep
    (None = full grid); positions: robot matrix with positions in metres;
    tf: attach a finite transfer function on the full grid.
    """
    seq = paper_2d_sequence()
    rx = seq.receiver
    K_full = rx.num_frequencies
    bins = np.arange(K_full) if select is None else np.asarray(select)
    offsets, size, fov, center = paper_2d_offsets(GRID)
    O = offsets.shape[0]

    def cplx(*shape):
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dtype)

    if tf:
        rx.transfer_function = (1.0 + 0.1 * rng.normal(size=(2, K_full))) * np.exp(1j * rng.uniform(-3, 3, (2, K_full)))
    kwargs = dict(
        data=cplx(2, bins.size, O),
        frequency_indices=bins,
        drive_field=seq.drive_field,
        receiver=rx,
        grid_size=size,
        field_of_view=fov,
        field_of_view_center=center,
        offset_fields_T=offsets,
        background=cplx(2, bins.size, background) if background else None,
        snr=rng.uniform(0, 50, size=(2, bins.size)) if snr else None,
        method="hybrid",  # a simulated hybrid calibration (tesla grid), isSimulation below
        easy_axis_angle_deg=30.0,
        provenance={
            "model": "neel",
            "parameters": {"diameter_m": 20e-9, "alpha": 0.1, "grid": np.arange(3)},
            "flags": np.array([True, False]),
        },
        tracer=Tracer(
            name=["perimag"],
            batch=["b1"],
            vendor=["micromod"],
            solute=["Fe"],
            concentration_molL=[0.5],
            volume_L=[1e-6],
            injection_time=["2024-01-02T03:04:05.678"],
        ),
        study=Study(name="s", number=3, description="d", time="2024-01-02T03:04:05.000"),
        experiment=Experiment(name="e", number=7, description="x", subject="phantom", is_simulation=True),
        acquisition=Acquisition(num_averages=4, gradient_Tm=np.diag([-1.0, -1.0, 2.0]).reshape(1, 1, 3, 3)),
    )
    if positions:
        kwargs.update(method="robot", offset_fields_T=None, positions_m=offsets, field_of_view_unit="m")
        kwargs["experiment"].is_simulation = False  # a measured robot calibration
    kwargs.update(changes)
    return SystemMatrix(**kwargs)


def make_measurement(rng, *, frames=6, permute=False) -> Measurement:
    """A paper-sequence measurement (J=1, C=2, K=20 selected bins, N frames, last one background)."""
    seq = paper_2d_sequence()
    bins = np.arange(10, 30)
    data = rng.normal(size=(1, 2, bins.size, frames)) + 1j * rng.normal(size=(1, 2, bins.size, frames))
    bg = np.zeros(frames, dtype=bool)
    bg[-1] = True
    return Measurement(
        data=data.astype(np.complex128),
        frequency_indices=bins,
        is_background_frame=bg,
        drive_field=seq.drive_field,
        receiver=seq.receiver,
        frame_permutation=rng.permutation(frames) if permute else None,
        provenance={"note": "test"},
        tracer=None,
    )
