"""SYNTHETIC MPI measurements of phantoms of immobilised particles with oriented easy axes.

A phantom lives on an offset grid (hybrid picture: grid position o is the place where
the selection field adds the offset ν_o to the drive field) and gives each position a
concentration c_o >= 0 (in units of the calibration sample) and an easy-axis angle ϑ_o.
The measured spectrum is the sum of the calibration signals of all positions, with the
same receive chain, background and noise model as
:func:`mdf_neel.simulate.synthetic.synthetic_calibration`::

    u[c, k] = H(f_k) · Σ_o c_o · Σ_j w_j · φ̂_j(ϑ_o, ν_o)[c, k]

    foreground frame n:   u[c, k] + b[c, k] + n_n[c, k]
    background frame e:             b[c, k] + n_e[c, k]

``φ̂_j`` are the normalised system functions (paper eq. 11) of population member j;
``H`` the band-pass of the synthetic calibrations (or another transfer function);
``n`` circular complex Gaussian noise of standard deviation ``σ·|H(f_k)|`` per bin;
``b = background_level · σ · H(f_k) · e^{iψ}`` a constant background spectrum. σ is
``noise_sigma`` when given (the same absolute noise as a calibration, e.g. its
``provenance["noise_sigma"]``), else ``noise_level`` times the largest ``|Σ_o c_o Σ_j
w_j φ̂_j|`` outside DC and the drive fundamentals. The data are **synthetic** and say so
(``experiment.is_simulation``, "SYNTHETIC" in the names, ``provenance["synthetic"] =
"yes"`` with the phantom itself).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from ..sequence import Receiver, as_offset_grid
from ..systemmatrix import Experiment, Measurement, Scanner, Tracer
from ._system_functions import ANGLE_CONVENTION, split_settings, system_functions
from .synthetic import DEFAULT_POPULATION, _check_population, _receive_chain, _silent_bins

__all__ = ["Phantom", "PhantomSample", "disk_phantom", "phantom_measurement"]

logger = logging.getLogger("mdf_neel.simulate")

_MODELS = ("neel", "anisotropic-equilibrium", "langevin")


@dataclass(frozen=True)
class PhantomSample:
    """A disc of particles with one easy-axis angle.

    Parameters
    ----------
    center_T : tuple of float, length 2
        Centre (x, y) on the offset grid, µ0·H in tesla.
    radius_T : float
        Radius in tesla (grid points within it belong to the sample).
    concentration : float
        Concentration in calibration-sample units (> 0).
    angle_deg : float
        Easy-axis angle ϑ [deg], n(ϑ) = (cos ϑ, sin ϑ, 0).
    """

    center_T: tuple
    radius_T: float
    concentration: float
    angle_deg: float

    def __post_init__(self):
        c = tuple(float(v) for v in self.center_T)
        if len(c) != 2 or not all(map(math.isfinite, c)):
            raise ValueError(f"center_T must be two finite numbers (x, y) in tesla, got {self.center_T!r}")
        object.__setattr__(self, "center_T", c)
        for name in ("radius_T", "concentration"):
            v = float(getattr(self, name))
            if not (v > 0 and math.isfinite(v)):
                raise ValueError(f"{name} must be finite and > 0, got {getattr(self, name)!r}")
            object.__setattr__(self, name, v)
        if not math.isfinite(float(self.angle_deg)):
            raise ValueError(f"angle_deg must be finite, got {self.angle_deg!r}")
        object.__setattr__(self, "angle_deg", float(self.angle_deg))


@dataclass(frozen=True)
class Phantom:
    """Concentration and easy-axis angle per position of an offset grid.

    Parameters
    ----------
    grid : OffsetGrid
        Offsets (O, 3) [T], x fastest, with size, field of view and centre.
    concentration : numpy.ndarray, shape (O,)
        >= 0, calibration-sample units.
    angle_deg : numpy.ndarray, shape (O,)
        Easy-axis angle per position [deg] (ignored where the concentration is 0).
    """

    grid: object
    concentration: np.ndarray
    angle_deg: np.ndarray

    def __post_init__(self):
        grid = as_offset_grid(self.grid)
        object.__setattr__(self, "grid", grid)
        O = grid.offsets_T.shape[0]
        for name in ("concentration", "angle_deg"):
            v = np.asarray(getattr(self, name), dtype=np.float64).reshape(-1)
            if v.shape != (O,) or not np.all(np.isfinite(v)):
                raise ValueError(
                    f"{name} must be finite with shape ({O},) (one value per grid position), got {v.shape}"
                )
            object.__setattr__(self, name, v)
        if np.any(self.concentration < 0):
            raise ValueError("concentration must be >= 0")

    @property
    def grid_shape(self) -> tuple:
        """(Nz, Ny, Nx)."""
        return tuple(int(v) for v in self.grid.size[::-1])


def disk_phantom(grid, samples) -> Phantom:
    """A phantom of non-overlapping discs (:class:`PhantomSample`) on an offset grid.

    Parameters
    ----------
    grid : OffsetGrid, 4-tuple or array_like (O, 3)
        The offset grid [T].
    samples : sequence of PhantomSample

    Returns
    -------
    Phantom

    Raises
    ------
    ValueError
        A disc holds no grid point, or two discs share one.

    Examples
    --------
    >>> from mdf_neel.simulate import preset
    >>> _, grid = preset("paper-2d", grid=(5, 5))
    >>> ph = disk_phantom(grid, [PhantomSample((0.0, 0.0), 1e-3, 1.0, 60.0)])
    >>> int((ph.concentration > 0).sum()), float(ph.angle_deg[12])  # the centre point only
    (1, 60.0)
    """
    grid = as_offset_grid(grid)
    O = grid.offsets_T.shape[0]
    conc = np.zeros(O)
    angle = np.zeros(O)
    owner = np.full(O, -1)
    for i, s in enumerate(samples):
        if not isinstance(s, PhantomSample):
            raise TypeError(f"samples must be PhantomSample objects, got {type(s).__name__}")
        d = np.hypot(grid.offsets_T[:, 0] - s.center_T[0], grid.offsets_T[:, 1] - s.center_T[1])
        inside = d <= s.radius_T
        if not inside.any():
            raise ValueError(f"sample {i} ({s}) covers no grid point")
        clash = inside & (owner >= 0)
        if clash.any():
            raise ValueError(f"samples {int(owner[clash][0])} and {i} overlap at {int(clash.sum())} grid point(s)")
        owner[inside] = i
        conc[inside] = s.concentration
        angle[inside] = s.angle_deg
    return Phantom(grid=grid, concentration=conc, angle_deg=angle)


def phantom_measurement(
    sequence,
    phantom: Phantom,
    *,
    population=DEFAULT_POPULATION,
    transfer_function="bandpass",
    store_transfer_function: bool = False,
    noise_level: float = 1e-3,
    noise_sigma: float | None = None,
    background_level: float = 3.0,
    foreground_frames: int = 10,
    background_frames: int = 10,
    background_corrected: bool = False,
    frequencies=None,
    seed: int = 0,
    model: str = "neel",
    channels=("x", "y"),
    solver=None,
    physics=None,
    **particle,
) -> Measurement:
    """A SYNTHETIC measurement of ``phantom`` (module docstring), ready for ``write_measurement``.

    Parameters
    ----------
    sequence : mdf_neel.sequence.Sequence
        Drive field and receiver (e.g. :func:`mdf_neel.sequence.paper_2d_sequence`).
    phantom : Phantom
        Concentration and easy-axis angle per offset-grid position.
    population : sequence of (diameter_m, anisotropy_Jm3, weight)
        Particle types and weights, as in ``synthetic_calibration``.
    transfer_function : "bandpass", dict, array (K_full,), or None
        The receive chain H, as in ``synthetic_calibration``.
    store_transfer_function : bool
        Also store H in ``receiver.transfer_function`` (so that a reader can divide it
        out); by default it is only in the provenance, as for the synthetic calibrations.
    noise_level : float
        σ relative to the peak clean signal (>= 0), used when ``noise_sigma`` is None.
    noise_sigma : float, optional
        Absolute σ in the unit of φ̂ (1/s); overrides ``noise_level``.
    background_level : float
        Background spectrum magnitude in units of σ·|H|.
    foreground_frames, background_frames : int
        Numbers of frames (>= 1 and >= 0); the background frames come first.
    background_corrected : bool
        Store the foreground minus the mean background (and set the flag).
    frequencies : array_like of int, optional
        0-based rfft bins to store (frequency selection); default all.
    seed : int
        Seed of noise and background phases.
    model : {"neel", "anisotropic-equilibrium", "langevin"}
    channels : sequence of {"x", "y", "z"}
    solver, physics, **particle
        As in :func:`~mdf_neel.simulate.system_functions`.

    Returns
    -------
    Measurement
        ``data`` (1, C, K, E + N), ``is_background_frame`` (E + N,), receiver unit
        "1/s", synthetic provenance including the phantom.

    Examples
    --------
    >>> from mdf_neel.simulate import preset
    >>> seq, grid = preset("paper-2d", grid=(5, 5))
    >>> ph = disk_phantom(grid, [PhantomSample((0.0, 0.0), 4e-3, 1.0, 45.0)])
    >>> meas = phantom_measurement(seq, ph, model="anisotropic-equilibrium", population=[(20e-9, 1e3, 1.0)],
    ...                            frequencies=[33, 50, 67], foreground_frames=3, background_frames=2)
    >>> meas.data.shape, meas.is_background_frame.tolist()
    ((1, 2, 3, 5), [True, True, False, False, False])
    """
    if not isinstance(phantom, Phantom):
        raise TypeError(f"phantom must be a Phantom, got {type(phantom).__name__}")
    if model not in _MODELS:
        raise ValueError(f"model must be one of {_MODELS}, got {model!r}")
    if not (noise_level >= 0 and math.isfinite(noise_level)):
        raise ValueError(f"noise_level must be finite and >= 0, got {noise_level!r}")
    if noise_sigma is not None and not (noise_sigma >= 0 and math.isfinite(noise_sigma)):
        raise ValueError(f"noise_sigma must be finite and >= 0, got {noise_sigma!r}")
    if not (background_level >= 0 and math.isfinite(background_level)):
        raise ValueError(f"background_level must be finite and >= 0, got {background_level!r}")
    N, E = int(foreground_frames), int(background_frames)
    if N < 1 or E < 0:
        raise ValueError(f"need foreground_frames >= 1 and background_frames >= 0, got {N}, {E}")
    pop = _check_population(population)
    rx = sequence.receiver
    freqs, tf_full, tf_desc = _receive_chain(rx, frequencies, transfer_function)
    channels = tuple(channels)
    tf = tf_full[freqs]

    occupied = np.flatnonzero(phantom.concentration > 0)
    clean = np.zeros((len(channels), freqs.size), dtype=np.complex128)
    # one physics call per (angle, particle type) over the positions with that angle
    angles = np.round(phantom.angle_deg[occupied], 9)
    for angle in np.unique(angles):
        where = occupied[angles == angle]
        for d, k, w in pop:
            phi = system_functions(
                sequence,
                phantom.grid.offsets_T[where],
                angle_deg=float(angle),
                diameter_m=d,
                anisotropy_Jm3=k,
                model=model,
                frequencies=freqs,
                channels=channels,
                solver=solver,
                physics=physics,
                **particle,
            )  # (C, n_f, n)
            clean += w * (phi @ phantom.concentration[where])
    clean *= tf[None, :]

    silent = _silent_bins(freqs, sequence.drive_field)
    peak = float(np.abs(clean[:, ~silent]).max()) if (~silent).any() else 0.0
    sigma = float(noise_sigma) if noise_sigma is not None else noise_level * peak
    C, K = clean.shape
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
    background = background_level * sigma * tf[None, :] * np.exp(2j * np.pi * rng.random((C, K)))
    noise = (rng.normal(size=(C, K, E + N)) + 1j * rng.normal(size=(C, K, E + N))) * (
        sigma * np.abs(tf)[None, :, None] / math.sqrt(2)
    )
    frames = background[..., None] + noise
    frames[..., E:] += clean[..., None]
    is_bg = np.arange(E + N) < E
    if background_corrected:
        if E == 0:
            raise ValueError("background_corrected=True needs background_frames >= 1")
        frames[..., E:] -= frames[..., :E].mean(axis=-1, keepdims=True)

    receiver = Receiver(
        bandwidth_Hz=rx.bandwidth_Hz,
        num_sampling_points=rx.num_sampling_points,
        num_channels=len(channels),
        unit="1/s",
        transfer_function=np.tile(tf_full, (len(channels), 1)) if store_transfer_function else None,
    )
    return Measurement(
        data=frames[None],
        frequency_indices=freqs,
        is_background_frame=is_bg,
        drive_field=sequence.drive_field,
        receiver=receiver,
        is_background_corrected=bool(background_corrected),
        is_transfer_function_corrected=False,
        provenance=_provenance(
            phantom,
            model,
            pop,
            tf_desc,
            tf,
            store_transfer_function,
            noise_level,
            noise_sigma,
            sigma,
            background_level,
            background_corrected,
            seed,
            particle,
            physics,
        ),
        tracer=Tracer(
            name=[
                "SYNTHETIC particle population ("
                + "; ".join(f"D = {d * 1e9:g} nm, K = {k:g} J/m^3, w = {w:g}" for d, k, w in pop)
                + ")"
            ],
            vendor=["n.a. (synthetic)"],
            solute=["Fe"],
            concentration_molL=np.ones(1),
            volume_L=np.zeros(1),
        ),
        scanner=Scanner(name="SYNTHETIC (mdf_neel.simulate.phantom)", manufacturer="mdf_neel", topology="FFP"),
        experiment=Experiment(
            name="SYNTHETIC phantom measurement",
            description=(
                f"SYNTHETIC measurement of a phantom of {occupied.size} occupied grid points "
                f"({np.unique(angles).size} easy-axis angles): {model} model, {tf_desc['kind']}, "
                f"sigma {sigma:g}, seed {int(seed)}; not a measurement"
            ),
            is_simulation=True,
        ),
    )


def _provenance(
    phantom,
    model,
    pop,
    tf_desc,
    tf,
    stored,
    noise_level,
    noise_sigma,
    sigma,
    background_level,
    background_corrected,
    seed,
    particle,
    physics,
):
    from .. import __version__

    return {
        "synthetic": "yes",
        "generator": f"mdf_neel {__version__} (mdf_neel.simulate.phantom.phantom_measurement)",
        "warning": "SYNTHETIC data made by a model, not a measurement",
        "model": model,
        "angle_convention": ANGLE_CONVENTION,
        "signal": "H(f_k) * sum_o c_o sum_j w_j phi_j(theta_o, offset_o)[c,k]; phi = paper eq. 11 (1/s)",
        "phantom": {
            "concentration": phantom.concentration,
            "angle_deg": phantom.angle_deg,
            "offsets_T": phantom.grid.offsets_T,
            "grid_size": np.asarray(phantom.grid.size),
            "field_of_view_T": np.asarray(phantom.grid.field_of_view_T),
            "center_T": np.asarray(phantom.grid.center_T),
        },
        "population": {
            "diameter_m": np.array([d for d, _, _ in pop]),
            "anisotropy_Jm3": np.array([k for _, k, _ in pop]),
            "weight": np.array([w for _, _, w in pop]),
        },
        "particle_parameters": split_settings(dict(particle, physics=physics))[0],
        "transfer_function": {**tf_desc, "values_at_stored_bins": tf, "stored_in_receiver": "yes" if stored else "no"},
        "noise_model": "circular complex Gaussian, std sigma*|H(f_k)| per bin, independent per channel, bin and frame",
        "noise_level": float(noise_level),
        "noise_sigma_requested": "none" if noise_sigma is None else float(noise_sigma),
        "noise_sigma": float(sigma),
        "background_model": "constant spectrum background_level*sigma*H(f_k)*exp(i psi), psi uniform; in every frame",
        "background_level": float(background_level),
        "background_corrected": "foreground minus mean of the background frames" if background_corrected else "no",
        "seed": int(seed),
    }
