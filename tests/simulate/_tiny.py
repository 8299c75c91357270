"""A small, fast sequence for dictionary tests (V = 72 samples; drive harmonics 9 and 8)."""

import numpy as np

from mdf_neel.sequence import DriveField, Receiver, Sequence


def tiny_sequence():
    drive = DriveField(
        2.5e6,
        np.array([[8], [9]]),
        np.array([[[12e-3], [13e-3]]]),
        np.full((1, 2, 1), np.pi / 2),
        np.full((2, 1), "sine", dtype=object),
    )
    return Sequence(drive, Receiver(bandwidth_Hz=1.25e6, num_sampling_points=72, num_channels=2))


def tiny_offsets():
    xs = np.array([-6e-3, 0.0, 6e-3])
    ys = np.array([-5e-3, 5e-3])
    return np.array([[x, y, 0.0] for y in ys for x in xs])


SETTINGS = dict(
    diameters_m=[18e-9, 22e-9],
    anisotropies_Jm3=[500.0, 2000.0],
    angles_deg=[0.0, 60.0, 120.0],
    frequencies=np.array([1, 2, 7, 8, 9, 17, 25]),
    model="anisotropic-equilibrium",
)


def die_once(payload):
    """A task that kills its worker process the first time it runs (lost-worker tests)."""
    import os

    marker, value = payload
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return value * 2
