"""3-D offset-field system matrices: the Bruker 3-D Lissajous preset, easy axes out of
the xy-plane, and the physics limits that must hold in 3-D.

Independent references are computed here, not taken from the package: the Langevin
function along the field, the Boltzmann average along an easy axis parallel to the field
(a 1-D quadrature), and the discrete-Fourier definition of φ̂ (paper eq. 11).
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from scipy import integrate

from mdf_neel.cli import main
from mdf_neel.mdf import validate
from mdf_neel.mdf.reader import read_system_matrix
from mdf_neel.physics import mean_magnetization
from mdf_neel.sequence import DriveField, Receiver, Sequence, bruker_3d_offsets
from mdf_neel.simulate import easy_axis, preset, system_functions, system_matrix

MU0 = 4e-7 * np.pi
KB = 1.38064852e-23  # the package's default kB [J/K] (CODATA 2014, as MNPDynamics)
MS, TEMP = 474e3, 293.0  # the package's default Ms [A/m] and T [K]


def _xi_per_tesla(diameter_m):
    """Ms·Vc/(kB T) [1/T], from the definitions (not the package's constants)."""
    return MS * np.pi * diameter_m**3 / 6.0 / (KB * TEMP)


def _phi_reference(u, cycle_s, channels):
    """φ̂[c, k, o] = (2πi k/T)·(1/V)·Σ_n u_c(t_n) e^{−2πi k n/V} by the DFT definition.

    u: (O, V, 3) unit moments; returns (C, V//2+1, O)."""
    O, V, _ = u.shape
    k = np.arange(V // 2 + 1)
    n = np.arange(V)
    basis = np.exp(-2j * np.pi * np.outer(k, n) / V)  # (K, V)
    coeff = np.einsum("kn,onc->cko", basis, u) / V
    return coeff[list(channels)] * (2j * np.pi * k / cycle_s)[None, :, None]


def short_3d_sequence(amplitude_T=12e-3, dividers=(12, 10, 11)):
    """A 3-D Lissajous short enough for tests: 2.5 MHz/12, /10, /11, V = 660 samples."""
    D = len(dividers)
    drive = DriveField(
        2.5e6,
        np.reshape(dividers, (D, 1)),
        np.full((1, D, 1), amplitude_T),
        np.full((1, D, 1), np.pi / 2),
        np.full((D, 1), "sine", dtype=object),
    )
    V = int(round(drive.cycle_s * 2.5e6))
    return Sequence(drive, Receiver(bandwidth_Hz=1.25e6, num_sampling_points=V, num_channels=3))


def _rotation(rotvec):
    """Proper rotation matrix for a rotation vector (Rodrigues), written out here."""
    v = np.asarray(rotvec, dtype=float)
    t = np.linalg.norm(v)
    k = v / t
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(t) * K + (1 - np.cos(t)) * K @ K


def test_bruker_3d_langevin_matrix_matches_closed_form_and_validates(tmp_path):
    """The full 53,856-sample Bruker cycle on 3 x 3 x 3 offsets with the Langevin model:
    every entry equals φ̂ of m̄ = L(ξ|B|) B/|B| computed here from the drive written out
    by hand, and the file validates."""
    seq, grid = preset("bruker-3d", grid=(3, 3, 3))
    d = 20e-9
    bins = np.array([1, 17, 33, 528, 544, 561, 1089, 1105, 1633, 26928])
    sm = system_matrix(
        seq,
        grid,
        angle_deg=30.0,
        easy_axis_polar_deg=45.0,
        diameter_m=d,
        model="langevin",
        channels=("x", "y", "z"),
        unit="1/s",
        frequencies=bins,
    )
    assert sm.data.shape == (3, bins.size, 27)
    assert sm.grid_size.tolist() == [3, 3, 3]
    V = 53856
    t = np.arange(V) / 2.5e6
    drive = np.stack([12e-3 * np.cos(2 * np.pi * 2.5e6 / div * t) for div in (102, 96, 99)], axis=-1)
    B = drive[None] + grid.offsets_T[:, None, :]  # (27, V, 3)
    xi = _xi_per_tesla(d)
    x = xi * np.linalg.norm(B, axis=-1)
    assert x.min() == 0.0  # the corner offset cancels the cosine drive at t = 0 exactly
    # L(x)/x: closed form above 1e-3 (cancellation ~1e-16/x² relative), series x²/45 below
    big = x > 1e-3
    xs = np.where(big, x, 1.0)
    g = np.where(big, (1 / np.tanh(xs) - 1 / xs) / xs, 1 / 3 - x * x / 45)
    u = (g * xi)[..., None] * B
    k = bins
    coeff = np.einsum("kn,onc->cko", np.exp(-2j * np.pi * np.outer(k, np.arange(V)) / V), u) / V
    expected = coeff * (2j * np.pi * k / (V / 2.5e6))[None, :, None]
    # the same closed form on both sides: agreement to accumulated rounding of V-term sums
    scale = np.abs(expected).max()
    np.testing.assert_allclose(sm.data, expected, rtol=0, atol=1e-9 * scale)
    # all three channels carry signal: the 3-D drive moves m̄ out of every coordinate plane
    assert np.all(np.abs(sm.data[:, 3:6]).max(axis=(1, 2)) > 1e-2 * scale)
    path = tmp_path / "bruker3d.mdf"
    from mdf_neel.mdf import write_system_matrix

    write_system_matrix(path, sm)
    assert validate(path) == []
    back = read_system_matrix(path)
    assert back.drive_field.num_channels == 3 and back.receiver.num_channels == 3
    np.testing.assert_allclose(back.offset_fields_T, grid.offsets_T)
    assert back.provenance["easy_axis_polar_deg"] == 45.0
    s45 = np.sqrt(0.5)  # n = (sin 45° cos 30°, sin 45° sin 30°, cos 45°)
    np.testing.assert_allclose(back.provenance["easy_axis"], [s45 * np.sqrt(0.75), s45 * 0.5, s45], rtol=1e-12)
    assert "polar" in back.provenance["angle_convention"]
    # the calibration group names the tilt too, in the file's own easy-axis fields
    assert back.easy_axis_angle_deg == 30.0 and back.easy_axis_polar_deg == 45.0
    with h5py.File(path, "r") as f:
        assert f["/calibration/_easyAxisPolarAngle"][()] == 45.0
        assert "polar" in f["/calibration/_easyAxisConvention"][()].decode()


def test_out_of_plane_axis_along_the_field_is_the_one_dimensional_boltzmann_average():
    """A drive along an out-of-plane easy axis n: m̄ ∥ n with the 1-D Boltzmann average
    ⟨u⟩ = ∫u e^{bu+σu²}du / ∫e^{bu+σu²}du (u = n·m), integrated here with scipy's quad."""
    az, polar = np.radians(40.0), np.radians(35.0)
    n = np.array([np.sin(polar) * np.cos(az), np.sin(polar) * np.sin(az), np.cos(polar)])  # the stated convention
    A = 10e-3
    # one divider on all three channels: B(t) = A n cos(ωt), always along n
    drive = DriveField(
        2.5e6,
        np.full((3, 1), 50),
        (A * n).reshape(1, 3, 1),
        np.full((1, 3, 1), np.pi / 2),
        np.full((3, 1), "sine", dtype=object),
    )
    seq = Sequence(drive, Receiver(bandwidth_Hz=1.25e6, num_sampling_points=50, num_channels=3))
    d, K = 16e-9, 3000.0
    phi = system_functions(
        seq,
        np.zeros((1, 3)),
        angle_deg=40.0,
        easy_axis_polar_deg=35.0,
        diameter_m=d,
        anisotropy_Jm3=K,
        model="anisotropic-equilibrium",
        channels=("x", "y", "z"),
    )
    sigma = K * np.pi * d**3 / 6.0 / (KB * TEMP)
    b = _xi_per_tesla(d) * A * np.cos(2 * np.pi * np.arange(50) / 50)

    def mean_u(bb):
        w = lambda u: np.exp(bb * u + sigma * (u * u - 1))  # noqa: E731 - shifted by e^{-σ} against overflow
        return (
            integrate.quad(lambda u: u * w(u), -1, 1, epsabs=0, epsrel=1e-13)[0]
            / integrate.quad(w, -1, 1, epsabs=0, epsrel=1e-13)[0]
        )

    u = np.array([mean_u(bb) for bb in b])[None, :, None] * n[None, None, :]
    expected = _phi_reference(u, drive.cycle_s, (0, 1, 2))
    # the package's Gauss–Legendre rule is converged to ~1e-12 for these concentrations
    np.testing.assert_allclose(phi, expected, rtol=0, atol=1e-9 * np.abs(expected).max())


@pytest.mark.parametrize(
    "model, atol",
    [
        # the equilibria depend only on n·B and |B|: rounding of the rotated inputs only
        ("anisotropic-equilibrium", 1e-11),
        ("langevin", 1e-11),
        # Néel: the two solves differ by a rotation about the easy axis in the solver frame,
        # under which the operator is invariant; allow the steady state's rtol of 1e-4
        ("neel", 1e-4),
    ],
)
def test_rotation_covariance_with_out_of_plane_axes(model, atol):
    """Rotating the fields and the easy axis together by a 3-D rotation R rotates m̄ by R."""
    seq = short_3d_sequence()
    t = seq.times_s()
    offsets = bruker_3d_offsets(grid=(2, 2, 2), extent_T=(4e-3, 3e-3, 5e-3)).offsets_T
    if model == "neel":
        offsets = offsets[[0, 7]]  # two members keep the Fokker–Planck solves short
    B = offsets.shape[0]
    fields = seq.field_T()[None] + offsets[:, None, :]  # (B, V, 3)
    n = easy_axis(20.0, 50.0)
    R = _rotation([0.3, -0.8, 0.5])
    kw = dict(diameter_m=16e-9, anisotropy_Jm3=2500.0, model=model)
    if model == "neel":
        kw["rtol"] = 1e-4
    m = mean_magnetization(t, fields, easy_axis=np.broadcast_to(n, (B, 3)), **kw)
    m_rot = mean_magnetization(t, fields @ R.T, easy_axis=np.broadcast_to(R @ n, (B, 3)), **kw)
    np.testing.assert_allclose(m_rot, m @ R.T, rtol=0, atol=atol)
    if model == "anisotropic-equilibrium":
        # and the axis matters: a different out-of-plane axis gives a different m̄
        other = mean_magnetization(t, fields, easy_axis=np.broadcast_to(easy_axis(20.0, 130.0), (B, 3)), **kw)
        assert np.abs(other - m).max() > 1e-2


def test_simulate_cli_on_a_3d_template(tmp_path):
    """``simulate --template`` on a 3-D file: one valid 3-channel file per angle with the
    polar angle recorded; the default channels follow the active z drive."""
    seq = short_3d_sequence()
    grid = bruker_3d_offsets(grid=(3, 3, 3))
    template = system_matrix(seq, grid, angle_deg=0.0, diameter_m=20e-9, model="langevin", channels=("x", "y", "z"))
    from mdf_neel.mdf import write_system_matrix

    write_system_matrix(tmp_path / "template.mdf", template)
    out = tmp_path / "sm"
    argv = ["simulate", "--template", str(tmp_path / "template.mdf"), "--angles", "0,45", "--diameter", "18e-9"]
    argv += ["--anisotropy", "2000", "--model", "anisotropic-equilibrium", "--easy-axis-polar", "60"]
    assert main(argv + ["--out", str(out), "--workers", "1"]) == 0
    for angle in (0, 45):
        path = out / f"theta_{angle:03d}.mdf"
        assert validate(path) == []
        sm = read_system_matrix(path)
        assert sm.data.shape == (3, 331, 27) and sm.grid_size.tolist() == [3, 3, 3]
        assert sm.provenance["easy_axis_polar_deg"] == 60.0
        direct = system_matrix(
            seq,
            grid,
            angle_deg=float(angle),
            easy_axis_polar_deg=60.0,
            diameter_m=18e-9,
            anisotropy_Jm3=2000.0,
            model="anisotropic-equilibrium",
            channels=("x", "y", "z"),
        )
        # complex64 on disk: agreement to single precision
        np.testing.assert_allclose(sm.data, direct.data, rtol=0, atol=1e-6 * np.abs(direct.data).max())


def test_simulate_cli_bruker_3d_preset(tmp_path, capsys):
    """``--preset bruker-3d --grid 2x2x2``: the full 3-D cycle, three channels, the grid
    over ±12 mT; a rerun resumes, and another polar angle counts as other settings."""
    out = tmp_path / "b3d"
    argv = ["simulate", "--preset", "bruker-3d", "--grid", "2x2x2", "--angles", "0", "--diameter", "20e-9"]
    argv += ["--model", "langevin", "--workers", "1", "--out", str(out)]
    assert main(argv) == 0
    path = out / "theta_000.mdf"
    assert validate(path) == []
    sm = read_system_matrix(path, frequencies=[528, 544, 561])
    assert sm.data.shape == (3, 3, 8) and sm.grid_size.tolist() == [2, 2, 2]
    np.testing.assert_allclose(np.abs(sm.offset_fields_T), 12e-3, rtol=1e-12)
    assert sm.drive_field.dividers[:, 0].tolist() == [102, 96, 99]
    stamp = path.stat().st_mtime_ns
    assert main(argv) == 0 and path.stat().st_mtime_ns == stamp  # finished: skipped
    capsys.readouterr()
    assert main(argv + ["--easy-axis-polar", "60"]) == 2
    assert "other settings" in capsys.readouterr().err


def test_in_plane_default_is_unchanged():
    """The polar angle defaults to 90°: the in-plane axis and its rows are exactly the old ones."""
    assert easy_axis(30.0).tolist() == easy_axis(30.0, 90.0).tolist()
    assert easy_axis(30.0)[2] == 0.0
    with pytest.raises(ValueError, match="polar"):
        easy_axis(0.0, 200.0)


@pytest.mark.slow
def test_neel_3d_matrix_validates_and_tends_to_equilibrium(tmp_path):
    """Néel model on the short 3-D sequence, 2 x 2 x 2 offsets, out-of-plane axis: the file
    validates, and for these small, fast-relaxing particles (τ ≈ 7 ns against a 4 µs drive
    period) the rows are within a few per cent of the anisotropic equilibrium."""
    seq = short_3d_sequence()
    grid = bruker_3d_offsets(grid=(2, 2, 2))
    kw = dict(angle_deg=30.0, easy_axis_polar_deg=45.0, diameter_m=16e-9, anisotropy_Jm3=2000.0)
    neel = system_matrix(seq, grid, model="neel", channels=("x", "y", "z"), **kw)
    eq = system_matrix(seq, grid, model="anisotropic-equilibrium", channels=("x", "y", "z"), **kw)
    from mdf_neel.mdf import write_system_matrix

    write_system_matrix(tmp_path / "neel3d.mdf", neel)
    assert validate(tmp_path / "neel3d.mdf") == []
    rows = [55, 60, 66]  # the drive fundamentals (660/12, 660/11, 660/10), where the lag is smallest
    num = np.linalg.norm(neel.data[:, rows] - eq.data[:, rows])
    assert num / np.linalg.norm(eq.data[:, rows]) < 0.05
