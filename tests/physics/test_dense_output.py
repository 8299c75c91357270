"""Dense output of the Néel time stepper: m̄ at the samples interpolated through step ends."""

import numpy as np

from mdf_neel.physics import _kernels as K


def test_lagrange_records_reproduce_cubics_through_irregular_step_ends():
    rng = np.random.default_rng(3)
    ends = np.cumsum(rng.uniform(0.3, 1.7, size=12))  # irregular step ends, in samples
    ends = np.concatenate([[0.0], ends])
    coeffs = rng.normal(size=(3, 4))

    def cubic(t):
        return np.array([np.polyval(c, t) for c in coeffs])

    dt = 0.25
    nrec = int(ends[-1] / dt) + 1
    out = np.full((nrec, 3), np.nan)
    tb, mb = np.empty(4), np.empty((4, 3))
    cnt = K.push_endpoint(tb, mb, 0, ends[0], cubic(ends[0]))
    krec = K.fill_records(out, 0, 0.0, dt, tb, mb, 1, ends[0])
    for t in ends[1:]:  # the kernel's schedule: centre interval once four ends are known
        cnt = K.push_endpoint(tb, mb, cnt, t, cubic(t))
        if cnt >= 4:
            krec = K.fill_records(out, krec, 0.0, dt, tb, mb, 4, tb[2])
    krec = K.fill_records(out, krec, 0.0, dt, tb, mb, min(cnt, 4), ends[-1])
    assert krec == nrec
    expected = np.stack([cubic(k * dt) for k in range(nrec)])
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-10 * np.abs(expected).max())


def test_clip_to_record_ends_steps_on_samples_only_when_asked():
    dt = 1.0
    # free: only the end of the interval limits the step
    assert K.clip_to_record(0.2, 1.5, 10.0, 1, 20, 0.0, dt, 0) == 1.5
    assert K.clip_to_record(9.0, 1.5, 10.0, 1, 20, 0.0, dt, 0) == 1.0
    # clipped: the step ends on the next record (t = 1) or halfway to it
    assert K.clip_to_record(0.2, 1.5, 10.0, 1, 20, 0.0, dt, 1) == 0.8
    assert abs(K.clip_to_record(0.2, 0.6, 10.0, 1, 20, 0.0, dt, 1) - 0.4) < 1e-15
