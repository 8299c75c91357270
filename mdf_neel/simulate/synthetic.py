"""SYNTHETIC "measured" hybrid calibrations: model + band-pass + background + noise.

These matrices stand in for measured data where none can be shipped (README, docs,
tests, benchmarks of the estimators). They are **synthetic** and say so everywhere:
``experiment.is_simulation = 1``, ``"SYNTHETIC"`` in the experiment name and
description, and ``provenance["synthetic"] = "yes"`` with every ingredient below.

Signal model (per easy-axis angle ϑ, receive channel c, rfft bin k, offset ν)
--------------------------------------------------------------------------
::

    s[c, k, ν] = H(f_k) · Σ_j w_j · φ̂_j[c, k, ν]              (unit 1/s, like φ̂)

* φ̂_j: normalised system functions (paper eq. 11) of population member j with
  diameter D_j and anisotropy K_j, from :func:`mdf_neel.simulate.system_functions`;
  ``w_j`` are the population weights, i.e. exactly the dictionary model M2
  (paper eq. 12) with the transfer function ``H``.
* ``H(f)`` (``transfer_function="bandpass"``, see :func:`bandpass_transfer_function`):
  ``gain`` × a 2nd-order Butterworth high-pass (corner 40 kHz: suppresses the drive
  fundamentals at 24.5/26.0 kHz and their feed-through) × a 2nd-order Butterworth
  low-pass (corner 600 kHz) × a pure delay ``exp(−2πi f τ)`` with τ = 1 µs. Real, TF
  analogue filters; the same for both channels. It is **not** stored in the file (as
  for a measured matrix whose receive chain is unknown) but in the provenance.

Noise and background (frame index e = 1..E for background frames)
----------------------------------------------------------------
``σ = noise_level · max |Σ_j w_j φ̂_j|`` over all angles, channels and stored rows
except DC and the drive fundamentals. Receiver noise is white at the filter input, so
after the filter it is circular complex Gaussian with standard deviation
``σ·|H(f_k)|`` per bin (``E|n|² = σ²|H|²``), independent across channels, bins and frames.
A constant background spectrum ``b[c, k] = background_level · σ · H(f_k) · e^{iψ[c,k]}``
(ψ uniform random) is present in every frame::

    foreground frame ν:   s[c, k, ν] + b[c, k] + n_ν[c, k]
    background frame e:   b[c, k] + n_e[c, k]

With ``background_corrected=True`` (default) the mean of the E background frames,
``b̂[c, k]``, is subtracted from **every** stored frame, foreground and background
alike, and ``is_background_corrected`` is set: the foreground is MPIFiles' correction
for one background block, and the stored background frames are what is left of them
(zero mean, the noise). MPIFiles never reads ``isBackgroundCorrected``; with
``bgCorrection=true`` it subtracts the mean of the stored background frames, which is
then 0, so it does not correct twice. ``b̂`` is kept in the provenance
(``subtracted_background``), so raw frames = stored frames + ``b̂``. With
``background_corrected=False`` raw frames are stored and the flag is 0 (both MPIFiles
and :func:`mdf_neel.mdf.read_system_matrix` subtract once, on request).

The SNR per row is computed from the raw foreground and the raw background frames
with MPIFiles' ``calculateSystemMatrixSNR`` rule
(:func:`mdf_neel.mdf.conversion.estimate_snr`), before ``b̂`` is subtracted (the
rule's signal-region mask uses the uncentred ``|fg|``). ``noise_estimate`` is the standard deviation of the background
frames per channel and bin (:func:`mdf_neel.mdf.writer.noise_estimate`, MPIFiles'
``/custom/noiseEstimate``); it estimates the stated ``σ·|H(f_k)|``. None when
``noise_level = 0`` (nothing to whiten).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from .._progress import progress
from ..systemmatrix import Experiment, Scanner, SystemMatrix, Tracer
from .sources import as_offset_grid
from ._system_functions import ANGLE_CONVENTION, angle_system_functions, split_settings

__all__ = [
    "synthetic_calibration",
    "bandpass_transfer_function",
    "DEFAULT_POPULATION",
    "BANDPASS_DEFAULTS",
]

logger = logging.getLogger("mdf_neel.simulate")

#: (diameter_m, anisotropy_Jm3, weight): the paper's M1 optimum dominates, two neighbours add a little.
DEFAULT_POPULATION = ((22e-9, 1100.0, 0.8), (20e-9, 1500.0, 0.1), (24e-9, 600.0, 0.1))
#: Parameters of the default analogue band-pass.
BANDPASS_DEFAULTS = {"highpass_Hz": 40e3, "lowpass_Hz": 600e3, "delay_s": 1e-6, "gain": 1.0}

_MODELS = ("neel", "anisotropic-equilibrium", "langevin")


def bandpass_transfer_function(frequencies_Hz, *, highpass_Hz=40e3, lowpass_Hz=600e3, delay_s=1e-6, gain=1.0):
    """Analogue band-pass: 2nd-order Butterworth high- and low-pass and a delay.

    Parameters
    ----------
    frequencies_Hz : array_like, shape (K,)
        Frequencies f >= 0 [Hz].
    highpass_Hz, lowpass_Hz : float
        -3 dB corners [Hz] (``0 < highpass_Hz < lowpass_Hz``).
    delay_s : float
        Group delay of the receive chain [s] (phase ``-2π f τ``).
    gain : float
        Pass-band gain (dimensionless).

    Returns
    -------
    numpy.ndarray, complex128, shape (K,)
        ``H(f) = gain · s²/(s² + √2 ω_h s + ω_h²) · ω_l²/(s² + √2 ω_l s + ω_l²) · e^{−sτ}``
        with ``s = 2πi f``, ``ω = 2π f_corner``. ``H(0) = 0``; ``|H(f_h)| ≈ |H(f_l)| ≈ gain/√2``.
    """
    if not (0 < highpass_Hz < lowpass_Hz) or not math.isfinite(lowpass_Hz):
        raise ValueError(f"need 0 < highpass_Hz < lowpass_Hz, got {highpass_Hz!r}, {lowpass_Hz!r}")
    if delay_s < 0 or not math.isfinite(delay_s):
        raise ValueError(f"delay_s must be finite and >= 0, got {delay_s!r}")
    f = np.asarray(frequencies_Hz, dtype=np.float64)
    s = 2j * np.pi * f
    wh, wl = 2 * np.pi * highpass_Hz, 2 * np.pi * lowpass_Hz
    high = s**2 / (s**2 + math.sqrt(2) * wh * s + wh**2)
    low = wl**2 / (s**2 + math.sqrt(2) * wl * s + wl**2)
    return gain * high * low * np.exp(-s * delay_s)


def _check_population(population):
    pop = [tuple(float(v) for v in member) for member in population]
    if not pop or any(len(m) != 3 for m in pop):
        raise ValueError("population must be a non-empty list of (diameter_m, anisotropy_Jm3, weight)")
    for d, k, w in pop:
        if not (d > 0 and k >= 0 and w >= 0) or not all(map(math.isfinite, (d, k, w))):
            raise ValueError(f"population member (D={d!r} m, K={k!r} J/m^3, w={w!r}) needs D > 0, K >= 0, w >= 0")
    if sum(w for _, _, w in pop) <= 0:
        raise ValueError("population weights must not all be 0")
    return pop


def _silent_bins(freqs, drive_field) -> np.ndarray:
    """Mask (K,) of the stored bins that set no noise scale: DC and the active drive fundamentals."""
    fundamentals = [int(h) for h, a in zip(drive_field.harmonics_per_cycle, drive_field.active_channels) if a]
    return np.isin(freqs, [0] + fundamentals)


def _receive_chain(receiver, frequencies, transfer_function):
    """(stored bins (K,), H on the full rfft grid (K_full,), H's description) of a receiver."""
    kfull = receiver.num_frequencies
    freqs = np.arange(kfull) if frequencies is None else np.unique(np.asarray(frequencies, dtype=np.int64))
    if freqs.size == 0 or freqs[0] < 0 or freqs[-1] >= kfull:
        raise ValueError(f"frequencies must be bins in [0, {kfull - 1}]")
    tf_full, tf_desc = _transfer_function(transfer_function, receiver.frequencies_Hz)
    return freqs, tf_full, tf_desc


def _transfer_function(transfer_function, frequencies_Hz):
    """(H on the rfft grid (K_full,), description dict)."""
    if transfer_function is None:
        return np.ones(frequencies_Hz.shape, dtype=np.complex128), {"kind": "none (H = 1)"}
    if isinstance(transfer_function, str):
        if transfer_function != "bandpass":
            raise ValueError(
                f"transfer_function must be 'bandpass', None, a dict of band-pass parameters or an array; got {transfer_function!r}"
            )
        transfer_function = dict(BANDPASS_DEFAULTS)
    if isinstance(transfer_function, dict):
        params = {**BANDPASS_DEFAULTS, **transfer_function}
        unknown = set(params) - set(BANDPASS_DEFAULTS)
        if unknown:
            raise ValueError(f"unknown band-pass parameters {sorted(unknown)}; known: {sorted(BANDPASS_DEFAULTS)}")
        desc = {
            "kind": "analogue band-pass: 2nd-order Butterworth high-pass x 2nd-order Butterworth low-pass x delay",
            "formula": "gain * s^2/(s^2+sqrt2*wh*s+wh^2) * wl^2/(s^2+sqrt2*wl*s+wl^2) * exp(-s*delay), s = 2 pi i f",
            **{k: float(v) for k, v in params.items()},
        }
        return bandpass_transfer_function(frequencies_Hz, **params), desc
    tf = np.asarray(transfer_function, dtype=np.complex128)
    if tf.shape != frequencies_Hz.shape or not np.all(np.isfinite(tf)):
        raise ValueError(f"a transfer-function array must be finite with shape {frequencies_Hz.shape}, got {tf.shape}")
    return tf, {"kind": "user-supplied array"}


def synthetic_calibration(
    sequence,
    offsets_T,
    grid_size=None,
    fov=None,
    center=None,
    *,
    angles_deg,
    population=DEFAULT_POPULATION,
    transfer_function="bandpass",
    noise_level=1e-3,
    background_level=3.0,
    background_frames=10,
    background_corrected=True,
    frequencies=None,
    seed=0,
    model="neel",
    channels=("x", "y"),
    show_progress=None,
    solver=None,
    physics=None,
    **particle,
):
    """SYNTHETIC "measured" hybrid system matrices, one per easy-axis angle.

    Parameters
    ----------
    sequence : mdf_neel.sequence.Sequence
        Drive field and receiver (e.g. :func:`mdf_neel.sequence.paper_2d_sequence`).
    offsets_T : array_like (O, 3), or an OffsetGrid / 4-tuple (offsets, size, fov, centre)
        Offset fields [T], x fastest.
    grid_size, fov, center : array_like, shape (3,), optional
        Grid of the offsets (size, field of view [T], centre [T]); inferred when omitted.
    angles_deg : sequence of float
        Easy-axis angles ϑ [deg], n(ϑ) = (cos ϑ, sin ϑ, 0).
    population : sequence of (diameter_m, anisotropy_Jm3, weight)
        Particle types and their weights w_j on φ̂ (module docstring).
    transfer_function : "bandpass", dict, array (K_full,), or None
        The receive chain H(f): the default band-pass, a dict overriding its
        parameters (:data:`BANDPASS_DEFAULTS`), an array on the full rfft grid, or
        None for H = 1.
    noise_level : float
        σ relative to the largest signal magnitude (module docstring); >= 0.
    background_level : float
        Magnitude of the constant background spectrum in units of σ·|H|.
    background_frames : int
        Number E of background frames (>= 1 with noise, for the SNR rule).
    background_corrected : bool
        Subtract the mean background from every frame (default) or store raw frames
        (module docstring).
    frequencies : array_like of int, optional
        0-based rfft bins to keep (MDF frequency selection); default all.
    seed : int
        Seed of all random numbers (noise, background phases); same seed, same files.
    model : {"neel", "anisotropic-equilibrium", "langevin"}
        Magnetisation model of the particles.
    channels : sequence of {"x", "y", "z"}
        Receive channels.
    show_progress : bool, optional
        Progress bar over (angle, particle type) simulations (default: on a terminal).
    solver, physics, **particle
        Numerical settings and the physics besides D and K, as in
        :func:`~mdf_neel.simulate.system_functions` (physics recorded whole in the
        provenance).

    Returns
    -------
    list of SystemMatrix
        One per angle, in the order of ``angles_deg``: method "hybrid",
        ``experiment.is_simulation = True``, background (C, K, E), SNR and
        ``noise_estimate`` from the background frames, provenance with
        ``synthetic = "yes"``.
    """
    from ..mdf.conversion import estimate_snr  # the MDF layer's implementation of MPIFiles' rule
    from ..mdf.writer import noise_estimate

    if model not in _MODELS:
        raise ValueError(f"model must be one of {_MODELS}, got {model!r}")
    if not (noise_level >= 0 and math.isfinite(noise_level)):
        raise ValueError(f"noise_level must be finite and >= 0, got {noise_level!r}")
    if not (background_level >= 0 and math.isfinite(background_level)):
        raise ValueError(f"background_level must be finite and >= 0, got {background_level!r}")
    E = int(background_frames)
    if E < 1:
        raise ValueError(f"background_frames must be >= 1 (the SNR rule needs background), got {background_frames!r}")
    angles = [float(a) for a in np.atleast_1d(angles_deg)]
    if not angles:
        raise ValueError("angles_deg must hold at least one angle")
    pop = _check_population(population)
    if grid_size is not None:
        grid = as_offset_grid((offsets_T, grid_size, fov, center))
    else:
        grid = as_offset_grid(offsets_T)
    rx = sequence.receiver
    freqs, tf_full, tf_desc = _receive_chain(rx, frequencies, transfer_function)
    channels = tuple(channels)
    tf = tf_full[freqs]

    # clean mixtures Σ w_j φ̂_j per angle; one physics call per particle type with every
    # angle (one verified Néel batch, symmetric members mapped)
    bar = progress(total=len(pop), desc="synthetic calibration", unit="particle type", enabled=show_progress)
    mix = 0
    for d, k, w in pop:
        phi = angle_system_functions(
            sequence,
            grid.offsets_T,
            angles_deg=angles,
            diameter_m=d,
            anisotropy_Jm3=k,
            model=model,
            frequencies=freqs,
            channels=channels,
            solver=solver,
            physics=physics,
            **particle,
        )
        mix = mix + w * phi
        bar.update(1)
    bar.close()
    mixtures = list(mix)

    silent = _silent_bins(freqs, sequence.drive_field)
    peak = max(float(np.abs(m[:, ~silent]).max()) if (~silent).any() else 0.0 for m in mixtures)
    sigma = noise_level * peak
    C, K, O = mixtures[0].shape
    noise_std = sigma * np.abs(tf)  # (K,)

    children = np.random.SeedSequence(int(seed)).spawn(len(angles) + 1)
    phase_rng = np.random.default_rng(children[0])
    background_spectrum = background_level * sigma * tf[None, :] * np.exp(2j * np.pi * phase_rng.random((C, K)))

    out = []
    for i, (angle, mix) in enumerate(zip(angles, mixtures)):
        rng = np.random.default_rng(children[i + 1])

        def noise(n):
            z = rng.normal(size=(C, K, n)) + 1j * rng.normal(size=(C, K, n))
            return z * (noise_std[None, :, None] / math.sqrt(2))

        clean = mix * tf[None, :, None]
        raw_fg = clean + background_spectrum[..., None] + noise(O)
        bg = background_spectrum[..., None] + noise(E)
        sm = _assemble(
            sequence,
            grid,
            raw_fg,
            bg,
            freqs,
            angle=angle,
            channels=channels,
            model=model,
            pop=pop,
            tf_desc=tf_desc,
            tf=tf,
            sigma=sigma,
            noise_level=noise_level,
            background_level=background_level,
            background_corrected=background_corrected,
            seed=seed,
            particle=split_settings(dict(particle, physics=physics))[0],
        )
        sm.snr = estimate_snr(sm)  # on the raw foreground, as MPIFiles does
        sm.noise_estimate = noise_estimate(bg)[0]
        if background_corrected:
            # the same estimate leaves every frame, so MPIFiles' bgCorrection=true finds mean 0 and subtracts nothing
            b_hat = bg.mean(axis=-1, keepdims=True)
            sm.data = raw_fg - b_hat
            sm.background = bg - b_hat
            sm.is_background_corrected = True
            sm.provenance["subtracted_background"] = b_hat[..., 0]
        out.append(sm)
    return out


def _assemble(
    sequence,
    grid,
    data,
    bg,
    freqs,
    *,
    angle,
    channels,
    model,
    pop,
    tf_desc,
    tf,
    sigma,
    noise_level,
    background_level,
    background_corrected,
    seed,
    particle,
):
    from .. import __version__
    from ..sequence import Receiver

    rx = sequence.receiver
    receiver = Receiver(
        bandwidth_Hz=rx.bandwidth_Hz, num_sampling_points=rx.num_sampling_points, num_channels=len(channels), unit="1/s"
    )
    pop_text = "; ".join(f"D = {d * 1e9:g} nm, K = {k:g} J/m^3, w = {w:g}" for d, k, w in pop)
    provenance = {
        "synthetic": "yes",
        "generator": f"mdf_neel {__version__} (mdf_neel.simulate.synthetic.synthetic_calibration)",
        "warning": "SYNTHETIC data made by a model, not a measurement",
        "model": model,
        "easy_axis_angle_deg": float(angle),
        "angle_convention": ANGLE_CONVENTION,
        "signal": "H(f_k) * sum_j w_j phi_j[c,k,o]; phi = paper eq. 11 (1/s)",
        "population": {
            "diameter_m": np.array([d for d, _, _ in pop]),
            "anisotropy_Jm3": np.array([k for _, k, _ in pop]),
            "weight": np.array([w for _, _, w in pop]),
        },
        "particle_parameters": dict(particle),
        "transfer_function": {**tf_desc, "values_at_stored_bins": tf, "stored_in_receiver": "no"},
        "noise_model": (
            "circular complex Gaussian, std sigma*|H(f_k)| per bin, independent per channel, "
            "bin and frame; sigma = noise_level * max|sum_j w_j phi_j| (DC and drive "
            "fundamentals excluded, all angles)"
        ),
        "noise_level": float(noise_level),
        "noise_sigma": float(sigma),
        "background_model": "constant spectrum background_level*sigma*H(f_k)*exp(i psi), psi uniform; in every frame",
        "background_level": float(background_level),
        "background_corrected": (
            "mean of the background frames subtracted from every frame (foreground and background)"
            if background_corrected
            else "no"
        ),
        "snr_rule": "MPIFiles calculateSystemMatrixSNR on the raw foreground and the background frames",
        "seed": int(seed),
    }
    return SystemMatrix(
        data=data,
        frequency_indices=freqs,
        drive_field=sequence.drive_field,
        receiver=receiver,
        grid_size=grid.size,
        field_of_view=grid.field_of_view_T,
        field_of_view_center=grid.center_T,
        offset_fields_T=grid.offsets_T,
        background=bg,
        method="hybrid",
        field_of_view_unit="T",
        is_transfer_function_corrected=False,
        easy_axis_angle_deg=float(angle),
        provenance=provenance,
        tracer=Tracer(
            name=[f"SYNTHETIC particle population ({pop_text})"],
            vendor=["n.a. (synthetic)"],
            solute=["Fe"],
            concentration_molL=np.ones(1),
            volume_L=np.zeros(1),
        ),
        scanner=Scanner(name="SYNTHETIC (mdf_neel.simulate.synthetic)", manufacturer="mdf_neel", topology="FFP"),
        experiment=Experiment(
            name=f"SYNTHETIC hybrid calibration, easy axis {float(angle):g} deg",
            description=(
                f"SYNTHETIC measured-like hybrid system matrix: {model} model, population {pop_text}, "
                f"{tf_desc['kind']}, noise_level {noise_level:g}, seed {int(seed)}; not a measurement"
            ),
            is_simulation=True,
        ),
    )
