"""Per-member easy axes and the reduced-basis (POD/greedy) path of the Néel solver.

The reduced path is checked against the full model on the same discretisation (its
only approximation), and against the analytic limits (Boltzmann density in a static
field, rotation covariance) that the full model satisfies independently."""

import math

import numpy as np
import pytest

from tests.physics import _reference_physics as _reference  # independent references

from mdf_neel.physics import ParticleParameters, anisotropic_equilibrium, mean_magnetization


def lissajous(n_samples, offsets):
    """Paper-like 2-D drive (dividers 9 and 8 of a short cycle) plus offsets, (O, P, 3)."""
    t = np.arange(n_samples) / 2.5e6
    period = n_samples / 2.5e6
    b = np.zeros((len(offsets), n_samples, 3))
    b[..., 0] = 12e-3 * np.cos(2 * np.pi * 8 * t / period)
    b[..., 1] = 13e-3 * np.cos(2 * np.pi * 9 * t / period)
    b += np.asarray(offsets, dtype=float)[:, None, :]
    return t, b


def axis(deg):
    a = math.radians(deg)
    return np.array([math.cos(a), math.sin(a), 0.0])


def rel_l2(a, b):
    return np.linalg.norm(a - b, axis=(-2, -1)) / np.linalg.norm(b, axis=(-2, -1))


def test_per_member_axes_equal_separate_calls_full_method():
    t, b = lissajous(72, [(0.004, -0.003, 0.0), (-0.006, 0.002, 0.0), (0.0, 0.0, 0.0)])
    axes = np.stack([axis(0), axis(50), axis(130)])
    kw = dict(diameter_m=20e-9, anisotropy_Jm3=2500, rtol=1e-3, resolution=8, method="full")
    m = mean_magnetization(t, b, easy_axis=axes, **kw)
    for i in range(3):
        one = mean_magnetization(t, b[i], easy_axis=axes[i], **kw)
        np.testing.assert_array_equal(m[i], one)


def test_per_member_axes_anisotropic_equilibrium():
    t, b = lissajous(40, [(0.002, 0.0, 0.0), (0.0, -0.004, 0.0)])
    axes = np.stack([axis(20), axis(100)])
    m = mean_magnetization(t, b, easy_axis=axes, diameter_m=22e-9, anisotropy_Jm3=3000, model="anisotropic-equilibrium")
    p = ParticleParameters(22e-9, 3000)
    for i in range(2):
        np.testing.assert_allclose(
            m[i], anisotropic_equilibrium(b[i], p.xi_per_tesla, p.sigma, axes[i]), rtol=0, atol=1e-14
        )


def test_bad_axis_batch_shape_raises():
    t, b = lissajous(16, [(0, 0, 0), (0.001, 0, 0)])
    with pytest.raises(ValueError, match="easy_axis"):
        mean_magnetization(t, b, easy_axis=np.ones((3, 3)), diameter_m=20e-9)
    with pytest.raises(ValueError, match="easy_axis"):
        mean_magnetization(t, b[0], easy_axis=np.ones((1, 3)), diameter_m=20e-9)
    with pytest.raises(ValueError, match="method"):
        mean_magnetization(t, b, diameter_m=20e-9, method="fast")


def sphere_boltzmann_mean(xi_vec, sigma, n, n_theta=200, n_phi=400):
    """Independent reference (see tests/physics/_reference_physics.py)."""
    return _reference.sphere_boltzmann_mean(xi_vec, sigma, n, n_theta, n_phi)


ANGLES = (0.0, 50.0, 100.0, 150.0)
OFFSETS = [(x, y, 0.0) for y in (-0.008, 0.0, 0.008) for x in (-0.01, 0.0, 0.01)]
KW = dict(diameter_m=18e-9, anisotropy_Jm3=2000.0, rtol=1e-3, resolution=9)


@pytest.fixture(scope="module")
def batch():
    t, b = lissajous(96, OFFSETS)
    fields = np.concatenate([b] * len(ANGLES))
    axes = np.repeat(np.stack([axis(a) for a in ANGLES]), len(OFFSETS), axis=0)
    m_red, info = mean_magnetization(t, fields, easy_axis=axes, method="reduced", return_info=True, **KW)
    m_full = mean_magnetization(t, fields, easy_axis=axes, method="full", **KW)
    return t, fields, axes, m_red, info, m_full


def test_reduced_agrees_with_full_model_within_rtol(batch):
    t, fields, axes, m_red, info, m_full = batch
    err = rel_l2(m_red, m_full)
    assert err.max() <= KW["rtol"], err.max()
    assert info["method"] == "reduced" and not info["rb_fallback"]
    # it is a genuine reduction: fewer full solves than members, basis far below (N+1)^2
    assert info["rb_full_solves"] < fields.shape[0]
    assert info["rb_dimension"] < info["n_coefficients"]


def test_reported_verification_error_is_measured_and_within_rtol(batch):
    t, fields, axes, m_red, info, m_full = batch
    assert 0 < info["rb_verification_error"] <= KW["rtol"]
    assert max(info["rb_verification_errors"]) == info["rb_verification_error"]
    members = info["rb_verification_members"]
    assert len(set(members)) == len(members) >= 2
    # verified members were solved with the full model (their output is that solution;
    # a training solve also saves states, so it may differ from the plain full-model
    # call within the time-stepping error)
    assert rel_l2(m_red[members], m_full[members]).max() <= 0.5 * KW["rtol"]
    # and the reduced model's error on the other members is of the reported size
    others = np.setdiff1d(np.arange(len(m_red)), members)
    assert rel_l2(m_red[others], m_full[others]).max() <= 3 * info["rb_verification_error"] + 1e-12


def test_reduced_is_deterministic_for_a_given_call(batch):
    t, fields, axes, m_red, info, m_full = batch
    again = mean_magnetization(t, fields, easy_axis=axes, method="reduced", **KW)
    np.testing.assert_array_equal(again, m_red)


def test_reduced_batch_equals_per_axis_calls_within_rtol(batch):
    t, fields, axes, m_red, info, m_full = batch
    O = len(OFFSETS)
    for i, a in enumerate(ANGLES[:2]):
        one = mean_magnetization(t, fields[i * O : (i + 1) * O], easy_axis=axis(a), method="reduced", **KW)
        assert rel_l2(one, m_red[i * O : (i + 1) * O]).max() <= 2 * KW["rtol"]


def _random_rotation(rng):
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def test_reduced_rotation_covariance(batch):
    t, fields, axes, m_red, info, m_full = batch
    Q = _random_rotation(np.random.default_rng(11))
    mq = mean_magnetization(t, fields @ Q.T, easy_axis=axes @ Q.T, method="reduced", **KW)
    assert rel_l2(mq, m_red @ Q.T).max() <= 2 * KW["rtol"]


def test_reduced_static_fields_give_boltzmann_means():
    p = ParticleParameters(18e-9, 2000.0)
    rng = np.random.default_rng(5)
    nb = 12
    b0 = rng.uniform(-0.012, 0.012, size=(nb, 3)) * np.array([1, 1, 0])
    axes = np.stack([axis(a) for a in rng.uniform(0, 180, nb)])
    t = np.arange(24) * 1e-7
    fields = np.repeat(b0[:, None, :], t.size, axis=1)
    m, info = mean_magnetization(
        t,
        fields,
        easy_axis=axes,
        method="reduced",
        return_info=True,
        diameter_m=18e-9,
        anisotropy_Jm3=2000.0,
        rtol=1e-4,
        resolution=14,
    )
    for i in range(nb):
        ref = sphere_boltzmann_mean(p.xi_per_tesla * b0[i], p.sigma, axes[i])
        np.testing.assert_allclose(m[i], np.tile(ref, (t.size, 1)), atol=1e-4 * np.linalg.norm(ref) + 1e-7)


def test_reduced_needs_steady_state():
    t, b = lissajous(16, [(0, 0, 0)] * 2)
    with pytest.raises(ValueError, match="steady_state"):
        mean_magnetization(t, b, diameter_m=18e-9, method="reduced", steady_state=False)


def test_reduced_shooting_at_full_rank_equals_full_model_shooting():
    """A drive faster than the Néel time (period ≈ τ): the warm-up cannot settle, so both
    the full model and the reduced model must find the periodic state by Newton–Krylov
    shooting. With a full-rank basis the reduced model is the full model in rotated
    coordinates, so its shooting (GMRES on its own period map) must give the same
    periodic m̄ within rtol."""
    from mdf_neel.physics.neel import reduced as R
    from mdf_neel.physics.neel.discretisation import NeelDiscretisation
    from mdf_neel.physics.neel.full import steady_state
    from mdf_neel.physics.neel.integration import local_tolerance, spline_coefficients, warmup_samples

    particle = ParticleParameters(diameter_m=18e-9, anisotropy_Jm3=2000.0)
    _, b = lissajous(96, [(0.004, -0.003, 0.0), (-0.01, 0.008, 0.0)])
    dt = 2e-10  # period 19.2 ns, about 2 τ
    times = np.arange(96) * dt
    rtol = 1e-3
    assert not warmup_samples(particle, rtol, dt, 96)[1]
    disc = NeelDiscretisation.build(particle, 9)
    fr = np.ascontiguousarray(b)  # easy axis along z: lab frame = easy-axis frame
    tol = local_tolerance(rtol)
    m_full, res_full, periods_full, *_ = steady_state(disc, particle, times, fr, dt, tol, rtol, 4)
    snaps = R._Snapshots(np.concatenate([[disc.i0], disc.mom_idx]).astype(np.int64))
    snaps.add(np.repeat(np.eye(disc.n), R.SNAPSHOT_STRIDE, axis=0))
    model = R._ReducedModel(disc, snaps, 1e-12)
    assert model.rmax == disc.n
    coef = spline_coefficients(times, fr, periodic=True)
    m_red, res_red, periods_red, _, _ = R._reduced_steady_state(model, particle, coef, fr, 0.0, dt, 96 * dt, tol, rtol)
    assert np.all(periods_full > 2) and np.all(periods_red > 2)  # both had to shoot
    assert np.max(res_red) <= 0.1 * rtol
    assert rel_l2(m_red, m_full).max() <= rtol


def test_incremental_pod_equals_svd_of_all_snapshots():
    """The POD is updated member by member; it must equal a direct SVD of every snapshot."""
    from mdf_neel.physics.neel.reduced import _Snapshots

    rng = np.random.default_rng(0)
    snaps = _Snapshots(np.array([0, 1, 2, 3]))
    for _ in range(4):
        Z = rng.normal(size=(40, 30)) @ np.diag(np.logspace(0, -9, 30))  # (m, n), graded
        snaps.add(Z)
        U, sv = snaps.pod()
        U_ref, s_ref, _ = np.linalg.svd(np.concatenate(snaps.states).T, full_matrices=False)
        keep = s_ref > 1e-14 * s_ref[0]
        np.testing.assert_allclose(sv, s_ref[keep], rtol=1e-9, atol=1e-14 * s_ref[0])
        # same subspaces, mode by mode (distinct singular values)
        np.testing.assert_allclose(np.abs(np.sum(U * U_ref[:, keep], axis=0)), 1.0, atol=1e-9)


def test_fallback_to_the_full_model_saves_no_states_and_reports_its_work(monkeypatch):
    """When the cost guard sends a batch back to the full model, the remaining members are
    solved without saving their states (the states of a dictionary batch at N = 27 would
    take gigabytes): only the training solves save them. The result is the full model's,
    and every member's periods and LU factorisations are reported."""
    from mdf_neel.physics.neel import dispatch
    from mdf_neel.physics.neel import reduced as R

    t, b = lissajous(96, OFFSETS)
    fields = np.concatenate([b] * len(ANGLES))
    axes = np.repeat(np.stack([axis(a) for a in ANGLES]), len(OFFSETS), axis=0)
    monkeypatch.setattr(dispatch, "REDUCED_MIN_BATCH", 16)  # "auto" tries the reduced basis
    monkeypatch.setattr(dispatch, "SLOW_MODE_MIN_RTOL", 1.0)  # (not the slow-mode model)
    saved = []
    steady = R.steady_state

    def counting(disc, particle, times, fr, *args, save=False, **kw):
        if save:
            saved.append(fr.shape[0])
        return steady(disc, particle, times, fr, *args, save=save, **kw)

    monkeypatch.setattr(R, "steady_state", counting)
    monkeypatch.setattr(R, "BAND_FLOP_COST", 1e-12)  # any reduced basis "costs too much"
    m_auto, info = mean_magnetization(t, fields, easy_axis=axes, method="auto", return_info=True, **KW)
    assert info["rb_fallback"]
    assert 0 < sum(saved) < info["solved_members"] // 2  # the training solves only
    solved = np.unique(info["symmetry_source"])
    assert np.all(np.asarray(info["lu_factorisations"])[solved] > 0)
    assert np.all(np.asarray(info["periods"])[solved] >= 1.0)
    m_full = mean_magnetization(t, fields, easy_axis=axes, method="full", **KW)
    assert rel_l2(m_auto, m_full).max() <= 1e-9
