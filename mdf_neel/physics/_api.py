"""The public entry points :func:`mean_magnetization` (validation and model dispatch) and
:func:`solve_neel` (the Néel model for a given :class:`ParticleParameters`)."""

from __future__ import annotations

import logging

import numpy as np

from .._checks import check_degree, check_fraction
from .equilibrium import anisotropic_equilibrium, langevin_magnetization
from .particles import ParticleParameters

__all__ = ["mean_magnetization", "solve_neel", "MODELS", "METHODS", "FOKKER_PLANCK_MODELS"]

logger = logging.getLogger("mdf_neel.physics")

MODELS = ("neel", "langevin", "anisotropic-equilibrium", "brown", "neel-brown")
METHODS = ("auto", "full", "reduced", "slow-mode", "quasi-static")
#: the models solved by the Fokker–Planck solver (its methods, accuracy options and statistics)
FOKKER_PLANCK_MODELS = ("neel", "brown")


def _check_easy_axis(easy_axis, fields_shape=None) -> np.ndarray:
    """Unit axis (3,) or one unit axis per batch member (B, 3)."""
    try:
        n = np.array(easy_axis, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"easy_axis must be a 3-vector or an array (B, 3), got {easy_axis!r}") from None
    if n.ndim <= 1:
        n = n.reshape(-1)
        if n.shape != (3,):
            raise ValueError(f"easy_axis must be a 3-vector, got shape {n.shape}")
    elif n.ndim != 2 or n.shape[1] != 3:
        raise ValueError(f"easy_axis must have shape (3,) or (B, 3), got {n.shape}")
    elif fields_shape is not None and (len(fields_shape) != 3 or fields_shape[0] != n.shape[0]):
        raise ValueError(
            f"easy_axis of shape {n.shape} needs fields_T of shape ({n.shape[0]}, T, 3) "
            f"(one axis per batch member), got fields_T {tuple(fields_shape)}"
        )
    if not np.all(np.isfinite(n)):
        raise ValueError("easy_axis must be finite")
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    if np.any(norm == 0.0):
        raise ValueError("easy_axis must be non-zero")
    return n / norm


def _check_times(times_s, *, need_uniform: bool) -> np.ndarray:
    t = np.array(times_s, dtype=float)
    if t.ndim != 1 or t.size < 1:
        raise ValueError(f"times_s must be a non-empty 1-D array, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("times_s must be finite")
    if t.size > 1:
        dt = np.diff(t)
        if np.any(dt <= 0):
            raise ValueError("times_s must be strictly increasing (sorted, no duplicates)")
        if need_uniform:
            step = (t[-1] - t[0]) / (t.size - 1)
            if np.max(np.abs(dt - step)) > 1e-6 * step:
                raise ValueError("times_s must be uniformly spaced for this model/mode")
    elif need_uniform:
        raise ValueError("times_s needs at least 2 samples for the 'neel' and 'brown' models")
    return t


def _check_fields(fields_T, n_times: int) -> np.ndarray:
    f = np.array(fields_T, dtype=float)  # a copy: inputs are never mutated
    if f.ndim not in (2, 3) or f.shape[-1] != 3:
        raise ValueError(f"fields_T must have shape (T, 3) or (B, T, 3), got {f.shape}")
    if f.shape[-2] != n_times:
        raise ValueError(f"fields_T has {f.shape[-2]} time samples but times_s has {n_times}")
    if not np.all(np.isfinite(f)):
        raise ValueError("fields_T contains NaN or inf")
    return f


def _check_neel_options(
    *, rtol, initial, steady_state, resolution, azimuthal_resolution, step_tolerance, method
) -> dict:
    """The validated solver options of the Néel model, as :func:`.neel.dispatch.solve_batch`
    takes them (``tol`` the per-step tolerance or None)."""
    rtol_f = check_fraction("rtol", rtol)
    if initial not in ("equilibrium", "uniform"):
        raise ValueError(f"initial must be 'equilibrium' or 'uniform', got {initial!r}")
    if not isinstance(steady_state, (bool, np.bool_)):
        raise ValueError(f"steady_state must be a bool, got {steady_state!r}")
    if resolution is not None:
        check_degree("resolution", resolution)
    if azimuthal_resolution is not None:
        if (
            isinstance(azimuthal_resolution, bool)
            or not isinstance(azimuthal_resolution, (int, np.integer))
            or int(azimuthal_resolution) < 1
        ):
            raise ValueError(f"azimuthal_resolution must be a positive integer order, got {azimuthal_resolution!r}")
    step_tol = None if step_tolerance is None else check_fraction("step_tolerance", step_tolerance)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return {
        "rtol": rtol_f,
        "initial": initial,
        "steady_state": bool(steady_state),
        "resolution": resolution,
        "azimuthal_resolution": azimuthal_resolution,
        "tol": step_tol,
        "method": method,
    }


def mean_magnetization(
    times_s,
    fields_T,
    *,
    diameter_m,
    anisotropy_Jm3=0.0,
    easy_axis=(1, 0, 0),
    model="neel",
    alpha=0.1,
    saturation_magnetization_Am=474e3,
    temperature_K=293.0,
    gamma=1.75e11,
    steady_state=True,
    initial="equilibrium",
    rtol=1e-4,
    resolution=None,
    return_info=False,
    n_threads=None,
    method="auto",
    azimuthal_resolution=None,
    step_tolerance=None,
    hydrodynamic_diameter_m=None,
    viscosity_Pas=1e-3,
):
    """Mean magnetic moment m̄(t) of single-domain particles, immobilised or in a liquid.

    Parameters
    ----------
    times_s : array_like, shape (T,)
        Sample times [s]; strictly increasing, uniformly spaced for ``model="neel"`` and
        ``"brown"``.
        For ``steady_state=True`` the field is taken as periodic with period
        ``T * (times_s[1] - times_s[0])``.
    fields_T : array_like, shape (T, 3) or (B, T, 3)
        Applied field µ0·H [T] on the time grid, or a batch of B such fields (e.g. one per
        offset); the batch is solved in one call, in parallel.
    diameter_m : float
        Core diameter [m] (> 0).
    anisotropy_Jm3 : float
        Uniaxial anisotropy constant K [J/m³] (>= 0).
    easy_axis : array_like, shape (3,) or (B, 3)
        Easy-axis direction (any non-zero length; n ≡ −n), or one axis per batch member
        (then ``fields_T`` must be (B, T, 3)). For ``"neel"`` the operator family is the
        same for all axes (easy-axis frame), so all angles × offsets of one particle
        type are best solved in ONE call (they share the slow-mode tables or the reduced
        basis, and with ``steady_state=True`` members whose fields are exact symmetric
        images of another's, such as the paper's (ϑ, (x, y)) and (−ϑ, (x, −y)), are
        mapped instead of solved: ``info["solved_members"]``, ``info["symmetry_source"]``).
    model : {"neel", "langevin", "anisotropic-equilibrium", "brown", "neel-brown"}
        ``"neel"``: Fokker–Planck equation of Néel rotation with uniaxial anisotropy;
        ``"langevin"``: equilibrium without anisotropy (the paper's M0);
        ``"anisotropic-equilibrium"``: instantaneous Boltzmann equilibrium with anisotropy;
        ``"brown"``: Fokker–Planck equation of Brownian rotation of particles in a liquid
        whose moment is locked to the body (:mod:`mdf_neel.physics.brown`: the Néel
        solver with τ = τ_B = 3ηV_h/(kB T), no precession and no anisotropy; K, the easy
        axis, α and γ do not enter). All numerical options below that are marked
        ``"neel"`` apply to ``"brown"`` with the same meaning.
        ``"neel-brown"``: the joint Fokker–Planck equation of the moment (Néel rotation in
        the body, as ``"neel"``) and of the easy axis of a body turning in the liquid (as
        ``"brown"``) (:mod:`mdf_neel.physics.neel_brown`): all particle and liquid
        parameters enter, the easy axis does not (it is a variable, isotropic at zero
        field); ``rtol``, ``resolution`` (degree in the moment) and ``step_tolerance``
        keep their meaning, ``method`` is ``"auto"`` or ``"full"``, and every member is
        solved (no symmetry mapping).
    alpha, saturation_magnetization_Am, temperature_K, gamma : float
        Damping α, Ms [A/m], T [K], γ [rad s⁻¹ T⁻¹] (MNPDynamics defaults).
    steady_state : bool
        ``"neel"`` only. True: the periodic steady state of the periodic field. False: an
        initial-value run from ``initial`` at ``times_s[0]``.
    initial : {"equilibrium", "uniform"}
        ``"neel"`` with ``steady_state=False`` only: start from the Boltzmann density at the
        first field value, or from the isotropic density (as the MNPDynamics peers).
    rtol : float
        Target relative accuracy of m̄ (relative to full scale, L2 over time); sets the
        spherical-harmonic degree and the number of time sub-steps.
    resolution : int, optional
        Explicit spherical-harmonic degree N (overrides the automatic choice).
    azimuthal_resolution : int, optional
        ``"neel"`` only. Largest azimuthal order |m| (about the easy axis) kept; a value
        >= N keeps all. Default: automatic — with a strong barrier the density is two
        narrow peaks near the axis and few orders suffice; the solver truncates where
        that pays, verifies the truncation on the members whose highest kept order
        carries most (and a random one) against 4 more orders, and raises |m| for the
        whole batch when they differ by more than 0.2·rtol (``info`` entries
        ``azimuthal_resolution``, ``azimuthal_verification_error``; see
        :func:`mdf_neel.physics.neel.truncation.initial_azimuthal_order`).
    step_tolerance : float, optional
        ``"neel"`` only. Per-step tolerance of the time stepper (2-norm of the embedded
        error of the spherical-harmonic coefficients); default ``0.25 * rtol``. The
        system-matrix layer sets it from its row-accuracy contract
        (:mod:`mdf_neel.simulate.accuracy`), since the weak high-order rows need a
        tighter time stepping than m̄ itself.
    hydrodynamic_diameter_m : float, optional
        ``"brown"`` and ``"neel-brown"`` only: hydrodynamic diameter D_h [m] (>= ``diameter_m``; default the
        core diameter).
    viscosity_Pas : float
        ``"brown"`` and ``"neel-brown"`` only: viscosity η of the carrier liquid [Pa s] (default 1e-3, water).
    return_info : bool
        If True, return ``(m, info)`` where ``info`` is a dict with the model, the
        resolution and sub-steps used, the particle parameters and solver statistics
        (for ``"brown"`` also ``brown_time_s``, τ_B [s]).
    n_threads : int, optional
        Number of numba threads for the batch (default: all).
    method : {"auto", "full", "reduced", "slow-mode", "quasi-static"}
        ``"neel"`` only. ``"full"``: every trajectory with the full spherical-harmonic
        model. ``"reduced"``: periodic steady states through a reduced basis (POD of a
        few full solves chosen greedily, Galerkin-reduced operators, verified against
        full solves of the worst-indicated and of random members; ``info`` reports
        ``rb_dimension``, ``rb_full_solves``, ``rb_verification_error``). Needs
        ``steady_state=True``. ``"slow-mode"``: periodic steady states of the slowest
        Fokker–Planck mode plus the first-order lag of the others, from tables over
        the field plane shared by the whole batch
        (:mod:`mdf_neel.physics.neel.slow_mode`); needs ``steady_state=True`` and every
        member's field in one plane through its easy axis (the paper's 2-D drive with
        in-plane offsets and axes). Verified against full solves of the member reaching
        the largest field and of two random ones (``info``: ``slow_mode_accepted``,
        ``slow_mode_verification_error``); its own error on the paper's sequence is up
        to 2.5e-4 (``docs/neel-numerics.md``, "Slow-mode model"). ``"auto"``: for
        steady-state batches of at least
        :data:`mdf_neel.physics.neel.dispatch.REDUCED_MIN_BATCH` members the slow-mode
        model (in-plane fields, ``rtol >= 1e-3``; the reduced basis if its
        verification fails) or else the reduced basis; full otherwise.
        ``"quasi-static"``: periodic steady states of particles that relax much faster
        than the drive changes, as the adiabatic series f_0 + f_1 + … (f_0 the
        Boltzmann density at the instantaneous field, each further term smaller by
        about ωτ) from tables over the field plane shared by the whole batch
        (:mod:`mdf_neel.physics.neel.quasi_static`); needs ``steady_state=True`` and
        every member's field in one plane through its easy axis, and applies where
        2π f_Nyquist τ_1 <= 0.25 (τ_1 the slowest relaxation time at zero field; else a
        ``ValueError``). The order is the lowest whose truncation, (2π f_Nyquist τ_1)^(K+1),
        is within ``rtol``; ``info`` reports ``quasi_static_order``, the table, and
        ``quasi_static_increments`` (B, T, 2, 3), the lab-frame contributions of the
        orders K − 1 and K (how fast the series converges on each member).
        :func:`solve_neel` takes a lower frequency than Nyquist
        (``highest_frequency_Hz``) where only the lower harmonics are used.
        ``"auto"`` does not choose it; the row contract of the system-matrix layer
        does, and checks it (``docs/simulate.md``).

    Returns
    -------
    numpy.ndarray, shape like ``fields_T``
        m̄(t) normalised by m0 = Ms·Vc (|m̄| <= 1).
    dict
        Only with ``return_info=True``.

    Raises
    ------
    ValueError
        For invalid parameters; the message names the parameter.

    Examples
    --------
    A 20 nm tracer in a 30 nm shell in water under a 25 kHz, 10 mT drive: the Langevin
    equilibrium and the lagging Brownian rotation (τ_B = 10.5 µs).

    >>> import numpy as np
    >>> from mdf_neel.physics import mean_magnetization
    >>> t = np.arange(64) * 40e-6 / 64
    >>> b = np.zeros((64, 3))
    >>> b[:, 0] = 10e-3 * np.cos(2 * np.pi * 25e3 * t)
    >>> eq = mean_magnetization(t, b, diameter_m=20e-9, model="langevin")
    >>> m, info = mean_magnetization(t, b, diameter_m=20e-9, model="brown", hydrodynamic_diameter_m=30e-9,
    ...                              rtol=1e-3, return_info=True)
    >>> f"{info['brown_time_s']:.3g}", bool(np.abs(m[:, 0]).max() < np.abs(eq[:, 0]).max())
    ('1.05e-05', True)
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    particle = ParticleParameters(
        diameter_m=diameter_m,
        anisotropy_Jm3=anisotropy_Jm3,
        alpha=alpha,
        saturation_magnetization_Am=saturation_magnetization_Am,
        temperature_K=temperature_K,
        gamma=gamma,
        hydrodynamic_diameter_m=hydrodynamic_diameter_m,
        viscosity_Pas=viscosity_Pas,
    )
    options = _check_neel_options(
        rtol=rtol,
        initial=initial,
        steady_state=steady_state,
        resolution=resolution,
        azimuthal_resolution=azimuthal_resolution,
        step_tolerance=step_tolerance,
        method=method,
    )
    t = _check_times(times_s, need_uniform=(model in ("neel", "brown", "neel-brown")))
    fields = _check_fields(fields_T, t.size)
    n = _check_easy_axis(easy_axis, fields.shape)

    info = {
        "model": model,
        "particle": particle.as_dict(),
        "easy_axis": tuple(n.tolist()) if n.ndim == 1 else n.tolist(),
        "sigma": particle.sigma,
        "xi_per_tesla": particle.xi_per_tesla,
        "tau_s": particle.tau_s,
    }
    if model == "langevin":
        m = langevin_magnetization(fields, particle.xi_per_tesla)
    elif model == "anisotropic-equilibrium":
        m = anisotropic_equilibrium(fields, particle.xi_per_tesla, particle.sigma, n if n.ndim == 1 else n[:, None, :])
    elif model == "brown":
        from .brown import solve_batch as solve_brown  # numba: loaded on first use

        m, fp_info = solve_brown(t, fields, particle, n_threads=n_threads, max_newton=4, symmetry=True, **options)
        info.update(fp_info, sigma=0.0, tau_s=particle.brown_time_s)  # the operator's: no barrier, τ = τ_B
    elif model == "neel-brown":
        from .neel_brown import solve_batch as solve_neel_brown

        m, fp_info = solve_neel_brown(t, fields, particle, n_threads=n_threads, **options)
        info.update(fp_info)
    else:
        from .neel.dispatch import solve_batch  # numba: loaded on first use

        m, fp_info = solve_batch(t, fields, particle, n, n_threads=n_threads, max_newton=4, symmetry=True, **options)
        info.update(fp_info)
    if return_info:
        return m, info
    return m


def solve_neel(
    times_s,
    fields_T,
    particle: ParticleParameters,
    easy_axis=(1, 0, 0),
    *,
    steady_state=True,
    initial="equilibrium",
    rtol=1e-4,
    resolution=None,
    step_tolerance=None,
    n_threads=None,
    max_newton=4,
    method="auto",
    symmetry=True,
    azimuthal_resolution=None,
    verify_model=True,
    highest_frequency_Hz=None,
):
    """Néel Fokker–Planck solution for a given particle, with the solver's statistics.

    The ``model="neel"`` branch of :func:`mean_magnetization` for a
    :class:`ParticleParameters` object, validated the same way and with the same
    defaults, plus solver options.

    Parameters
    ----------
    times_s, fields_T, easy_axis, steady_state, initial, rtol, resolution, step_tolerance, n_threads, method, azimuthal_resolution
        As in :func:`mean_magnetization`.
    particle : ParticleParameters
    max_newton : int
        Most Newton–Krylov shooting iterations of a periodic steady state (>= 0).
    symmetry : bool
        Steady states only: solve one member per class of exactly symmetric fields
        (:mod:`mdf_neel.physics.neel.symmetry`) and map the others.
    verify_model : bool
        ``method="slow-mode"`` only: check the batch against full solves of the member
        reaching the largest field and two random ones (``info["slow_mode_accepted"]``).
        False leaves the check to the caller: the system-matrix layer's row contract checks
        every batch against a tighter reference. Members outside the model are solved in
        full either way.
    highest_frequency_Hz : float, optional
        ``method="quasi-static"`` only: the highest frequency of m̄(t) the result is used
        at [Hz], at most the Nyquist frequency (default). The series' truncation at a
        harmonic of frequency f is about (2π f τ_1)^(K+1) of that harmonic, so a caller
        that uses only the lower harmonics (a system matrix's rows) needs a lower order,
        and the series applies to slower particles.

    Returns
    -------
    m : numpy.ndarray, shape like ``fields_T``
        Mean moment normalised by m0 = Ms·Vc.
    info : dict
        Solver statistics (see :func:`mdf_neel.physics.neel.dispatch.solve_batch`).

    Raises
    ------
    ValueError
        For invalid parameters; the message names the parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from mdf_neel.physics import ParticleParameters, solve_neel
    >>> t = np.arange(32) * 1e-6
    >>> b = np.zeros((32, 3))
    >>> b[:, 0] = 5e-3 * np.cos(2 * np.pi * np.arange(32) / 32)
    >>> m, info = solve_neel(t, b, ParticleParameters(diameter_m=16e-9), rtol=1e-3)
    >>> m.shape, info["method"]
    ((32, 3), 'full')
    """
    if not isinstance(particle, ParticleParameters):
        raise ValueError(f"particle must be a ParticleParameters, got {type(particle).__name__}")
    options = _check_neel_options(
        rtol=rtol,
        initial=initial,
        steady_state=steady_state,
        resolution=resolution,
        azimuthal_resolution=azimuthal_resolution,
        step_tolerance=step_tolerance,
        method=method,
    )
    if isinstance(max_newton, bool) or not isinstance(max_newton, (int, np.integer)) or max_newton < 0:
        raise ValueError(f"max_newton must be a non-negative integer, got {max_newton!r}")
    if not isinstance(symmetry, (bool, np.bool_)):
        raise ValueError(f"symmetry must be a bool, got {symmetry!r}")
    if not isinstance(verify_model, (bool, np.bool_)):
        raise ValueError(f"verify_model must be a bool, got {verify_model!r}")
    t = _check_times(times_s, need_uniform=True)
    if highest_frequency_Hz is not None:
        from .neel.quasi_static import nyquist_frequency_Hz

        nyquist = nyquist_frequency_Hz(t)
        f = highest_frequency_Hz
        if (
            isinstance(f, bool)
            or not isinstance(f, (int, float, np.integer, np.floating))
            or not 0 < f <= nyquist * (1 + 1e-9)
        ):
            raise ValueError(
                f"highest_frequency_Hz must be a frequency in (0, {nyquist:.6g}] Hz (the Nyquist "
                f"frequency of times_s), got {f!r}"
            )
    fields = _check_fields(fields_T, t.size)
    n = _check_easy_axis(easy_axis, fields.shape)
    from .neel.dispatch import solve_batch  # numba: loaded on first use

    return solve_batch(
        t,
        fields,
        particle,
        n,
        n_threads=n_threads,
        max_newton=int(max_newton),
        symmetry=bool(symmetry),
        verify_model=bool(verify_model),
        highest_frequency_Hz=None if highest_frequency_Hz is None else float(highest_frequency_Hz),
        **options,
    )
