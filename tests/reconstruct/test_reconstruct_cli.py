"""``mdf-neel reconstruct`` on small files."""

import numpy as np
import pytest

from mdf_neel.cli import main
from mdf_neel.mdf import write_measurement, write_system_matrix
from mdf_neel.reconstruct import read_image
from mdf_neel.simulate import PhantomSample, disk_phantom, phantom_measurement, preset
from mdf_neel.simulate.synthetic import synthetic_calibration

SEQ, GRID = preset("paper-2d", grid=(5, 5))
BINS = np.arange(0, 250)
POP = [(22e-9, 1100.0, 1.0)]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    sms = synthetic_calibration(
        SEQ, GRID, angles_deg=[120.0, 0.0, 60.0], population=POP, model="anisotropic-equilibrium", frequencies=BINS
    )
    paths = [write_system_matrix(tmp / f"theta_{sm.easy_axis_angle_deg:03.0f}.mdf", sm) for sm in sms]
    ph = disk_phantom(GRID, [PhantomSample((0.0, 0.0), 1e-3, 1.0, 60.0)])
    meas = phantom_measurement(
        SEQ,
        ph,
        population=POP,
        model="anisotropic-equilibrium",
        frequencies=BINS,
        noise_sigma=sms[0].provenance["noise_sigma"],
    )
    return tmp, paths, write_measurement(tmp / "meas.mdf", meas)


def test_cli_writes_image_picture_and_summary(files, capsys):
    tmp, paths, meas = files
    out = tmp / "recon"
    rc = main(
        [
            "reconstruct",
            "--sm",
            *paths,
            "--measurement",
            meas,
            "--out",
            str(out),
            "--iterations",
            "100",
            "--lambda",
            "1e-4",
            "--weighting",
            "none",
            "--snr-threshold",
            "3",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "3 angles ['0', '60', '120'] deg" in text  # sorted by angle
    assert "dominant angle" in text and str(out / "image.h5") in text
    rec = read_image(out / "image.h5")
    assert rec.concentration.shape == (1, 3, 1, 5, 5)
    assert rec.angles_deg.tolist() == [0.0, 60.0, 120.0]
    assert rec.settings.iterations == 100 and rec.settings.rows.min_snr == 3.0
    om = rec.orientation()
    assert np.nanargmax(om.total[0, 0]) == 12  # the centre
    assert abs(om.angle_deg[0, 0, 2, 2] - 60.0) < 5.0
    pytest.importorskip("matplotlib")
    assert (out / "orientation.png").stat().st_size > 1000


def test_cli_names_the_mismatched_file(files, tmp_path, capsys):
    _, paths, meas = files
    _, other = preset("paper-2d", grid=(3, 3))
    odd = synthetic_calibration(
        SEQ, other, angles_deg=[90.0], population=POP, model="anisotropic-equilibrium", frequencies=BINS
    )[0]
    odd_path = write_system_matrix(tmp_path / "odd.mdf", odd)
    rc = main(
        ["reconstruct", "--sm", *paths, odd_path, "--measurement", meas, "--out", str(tmp_path / "r"), "--no-picture"]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert "odd.mdf" in err and "grid size" in err
