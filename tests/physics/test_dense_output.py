"""The Néel time stepper (Rodas5P kernel) on a problem with a closed-form solution: its
order under step refinement, m̄ at the samples between step ends, its adaptive error, the
states saved from its dense output."""

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from mdf_neel.physics.neel import full_kernels, stepping

# y' = (V0 + B_x(t) V1) y with diagonal V0, V1: y_i(t) = y_i(0) exp(λ_i t + μ_i ∫B_x)
LAM = np.array([-1.0, -3.0e3, -0.5])  # one component stiff (h λ ≫ 1 at every step)
MU = np.array([2.0, 40.0, -1.5])
PERIOD = 2.0
NSAMP = 64
DT = PERIOD / NSAMP


def _problem():
    x = DT * np.arange(NSAMP + 1)
    bx = np.cos(2 * np.pi * x / PERIOD) + 0.3 * np.sin(6 * np.pi * x / PERIOD)
    spline = CubicSpline(x, np.stack([bx, 0 * bx, 0 * bx], axis=1), bc_type="periodic")
    coef = np.ascontiguousarray(spline.c)[None]  # (1, 4, nseg, 3)
    indptr = np.arange(4, dtype=np.int64)
    indices = np.arange(3, dtype=np.int64)
    vals = np.zeros((4, 3))
    vals[0], vals[1] = LAM, MU
    y0 = np.array([1.0, 0.5, -2.0])

    def exact(t):
        integral = np.array([spline.integrate(0.0, ti)[0] for ti in np.atleast_1d(t)])
        return y0 * np.exp(np.outer(np.atleast_1d(t), LAM) + np.outer(integral, MU))

    return coef, indptr, indices, vals, y0, exact


def _run(steps=None, tol=1e-6, t_end=PERIOD, h_max=4 * DT, save=False):
    coef, indptr, indices, vals, y0, exact = _problem()
    y = y0[None].copy()
    nrec = int(round(t_end / DT)) + 1
    out = np.zeros((1, nrec, 3))
    replay = 0 if steps is None else 1
    if steps is None:
        st, ns = np.zeros((1, 100000)), np.zeros(1, dtype=np.int64)
    else:
        st, ns = steps[None].copy(), np.array([steps.size], dtype=np.int64)
    ysave = np.zeros((1, nrec if save else 0, 3))
    info, nlu = full_kernels.run_batch_adaptive(
        y,
        0.0,
        float(t_end),
        coef,
        DT,
        PERIOD,
        0.0,
        0.0,
        out,
        tol,
        DT,
        h_max,
        replay,
        st,
        ns,
        indptr,
        indices,
        vals,
        0,
        0,
        np.array([0, 1, 2], dtype=np.int64),
        np.ones(3),
        ysave,
        np.zeros(0, dtype=np.int64),
        np.zeros(1),
    )
    assert info[0] == 0
    if save:
        return y[0], out[0], exact, st[0, : ns[0]], ysave[0]
    return y[0], out[0], exact, st[0, : ns[0]]


def test_order_under_step_refinement_on_the_non_stiff_components():
    errs = []
    for nsteps in (16, 32, 64):
        y, _, exact, _ = _run(steps=np.full(nsteps, PERIOD / nsteps))
        errs.append(np.abs(y - exact(PERIOD)[0])[[0, 2]].max())
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    # Rodas5P is of order 5 (order reduction in the stiff limit can cost one order)
    assert np.all(rates > 3.8), (errs, rates)


def test_stiff_component_is_damped_not_amplified():
    y, _, exact, _ = _run(steps=np.full(8, PERIOD / 8))  # h λ = 750: far outside stability
    ref = exact(PERIOD)[0]
    assert abs(y[1] - ref[1]) < 1e-2 * abs(ref[1]) + 1e-8


@pytest.mark.parametrize("tol", [1e-4, 1e-7])
def test_adaptive_dense_output_at_the_samples_is_within_the_tolerance(tol):
    _, out, exact, steps = _run(tol=tol, h_max=8 * DT)
    t = DT * np.arange(out.shape[0])
    ref = exact(t)
    err = np.abs(out - ref).max() / np.abs(ref).max()
    assert err < 10 * tol, err
    if tol >= 1e-4:  # free steps: most records lie inside a step (dense output)
        assert steps.size < 0.5 * (out.shape[0] - 1)


def test_records_inside_steps_converge_at_high_order():
    # fixed steps of 4 and 2 samples: records inside the steps are interpolated through
    # the step ends (6 points, O(h^6)); halving h must cut their error by well over 2^4
    errs = []
    for per_step in (4, 2):
        _, out, exact, _ = _run(steps=np.full(NSAMP // per_step, per_step * DT))
        t = DT * np.arange(out.shape[0])
        err = np.abs(out - exact(t))[:, [0, 2]]
        errs.append(np.delete(err, np.s_[::per_step], axis=0).max())
    assert errs[0] / errs[1] > 2**4.5, errs


def test_lagrange_records_reproduce_quintics_through_irregular_step_ends():
    rng = np.random.default_rng(3)
    ends = np.concatenate([[0.0], np.cumsum(rng.uniform(0.3, 1.7, size=14))])
    coeffs = rng.normal(size=(3, 6))

    def quintic(t):
        return np.array([np.polyval(c, t) for c in coeffs])

    dt = 0.25
    nrec = int(ends[-1] / dt) + 1
    out = np.full((nrec, 3), np.nan)
    L = stepping.INTERP_POINTS
    tb, mb = np.empty(L), np.empty((L, 3))
    cnt = stepping.push_endpoint(tb, mb, 0, ends[0], quintic(ends[0]))
    krec = 0
    for t in ends[1:]:  # the kernel's schedule
        cnt, krec = stepping.record_step_end(out, krec, 0.0, dt, tb, mb, cnt, t, quintic(t))
    krec = stepping.fill_records(out, krec, 0.0, dt, tb, mb, min(cnt, L), ends[-1])
    assert krec == nrec
    expected = np.stack([quintic(k * dt) for k in range(nrec)])
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-9 * np.abs(expected).max())


def test_saved_states_at_the_samples_come_from_the_dense_output_of_free_steps():
    _, out, exact, steps, ysave = _run(tol=1e-6, h_max=8 * DT, save=True)
    t = DT * np.arange(out.shape[0])
    assert steps.size < out.shape[0] - 1  # records inside steps, not only at step ends
    # the read-out here is the identity: the saved states (the method's dense output) and
    # the records (interpolated through step ends) must both follow the closed form
    ref = exact(t)
    assert np.abs(ysave - ref).max() < 1e-4 * np.abs(ref).max()
    assert np.abs(out - ref).max() < 1e-4 * np.abs(ref).max()
