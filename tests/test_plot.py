"""Tests of mdf_neel.plot (colour mapping, row selection, figures) and ``mdf-neel plot``."""

import numpy as np
import pytest

from mdf_neel.plot import complex_to_rgb, row_images, rows_to_bins
from mdf_neel.sequence import paper_2d_offsets, paper_2d_sequence
from mdf_neel.systemmatrix import SystemMatrix

# Bins of (1,1), (3,3), (5,5) for the 16/17 sequence, written out by hand: 16+17, 48+51, 80+85.
BINS = {(1, 1): 33, (3, 3): 99, (5, 5): 165}


def make_sm(angle_deg, grid=(5, 4), scale=1.0, bins=(0, 16, 33, 99, 165)):
    seq = paper_2d_sequence()
    offsets, size, fov, center = paper_2d_offsets(grid)
    O = offsets.shape[0]
    K = len(bins)
    # row k at position o: scale * (k + 1) * exp(i * o * 0.3) -> known magnitude and phase per pixel
    o = np.arange(O)
    data = np.empty((2, K, O), dtype=np.complex128)
    for c in range(2):
        for i in range(K):
            data[c, i] = scale * (i + 1 + c) * np.exp(1j * 0.3 * o) * (1 + o / O)
    return SystemMatrix(
        data=data,
        frequency_indices=np.array(bins),
        drive_field=seq.drive_field,
        receiver=seq.receiver,
        grid_size=size,
        field_of_view=fov,
        field_of_view_center=center,
        offset_fields_T=offsets,
        easy_axis_angle_deg=angle_deg,
    )


# --- colour mapping on hand-made values ----------------------------------------------------


@pytest.mark.parametrize(
    "z, rgb",
    [
        (1.0, (1, 0, 0)),  # phase 0 -> red
        (np.exp(2j * np.pi / 3), (0, 1, 0)),  # 2π/3 -> green
        (np.exp(-2j * np.pi / 3), (0, 0, 1)),  # -2π/3 = 4π/3 -> blue
        (-1.0, (0, 1, 1)),  # π -> cyan
        (1j, (0.5, 1, 0)),  # π/2 -> hue 1/4: yellow-green
        (np.exp(1j * np.pi / 3), (1, 1, 0)),  # π/3 -> yellow
        (-1j, (0.5, 0, 1)),  # -π/2 -> hue 3/4: violet
        (0.0, (0, 0, 0)),  # zero -> black
    ],
)
def test_complex_to_rgb_hue_of_unit_values(z, rgb):
    np.testing.assert_allclose(complex_to_rgb(np.array([z]), vmax=1.0)[0], rgb, atol=1e-12)


def test_complex_to_rgb_brightness_is_linear_and_clipped():
    z = np.array([0.25, 0.5, 2.0, 0.5j * np.exp(2j * np.pi / 3 - 0.5j * np.pi)])
    rgb = complex_to_rgb(z, vmax=1.0)
    np.testing.assert_allclose(rgb[0], [0.25, 0, 0], atol=1e-12)
    np.testing.assert_allclose(rgb[1], [0.5, 0, 0], atol=1e-12)
    np.testing.assert_allclose(rgb[2], [1, 0, 0], atol=1e-12)  # above vmax: clipped
    np.testing.assert_allclose(rgb[3], [0, 0.5, 0], atol=1e-12)  # |z| = 0.5, phase 2π/3


def test_complex_to_rgb_default_vmax_and_special_values():
    z = np.array([[4.0, -2.0], [np.nan, np.inf + 1j]])
    rgb = complex_to_rgb(z)
    assert rgb.shape == (2, 2, 3)
    np.testing.assert_allclose(rgb[0, 0], [1, 0, 0])
    np.testing.assert_allclose(rgb[0, 1], [0, 0.5, 0.5])
    np.testing.assert_array_equal(rgb[1], 0.0)  # non-finite -> black
    np.testing.assert_array_equal(complex_to_rgb(np.zeros(3)), 0.0)  # all zero -> black, no division error
    with pytest.raises(ValueError, match="vmax"):
        complex_to_rgb([1.0], vmax=-1)


def test_complex_to_rgb_agrees_with_matplotlib_hsv(rng):
    colors = pytest.importorskip("matplotlib.colors")
    z = rng.normal(size=500) + 1j * rng.normal(size=500)
    vmax = 2.0
    hsv = np.stack(
        [np.mod(np.angle(z), 2 * np.pi) / (2 * np.pi), np.ones(z.shape), np.clip(np.abs(z) / vmax, 0, 1)], axis=-1
    )
    np.testing.assert_allclose(complex_to_rgb(z, vmax), colors.hsv_to_rgb(hsv), atol=1e-12)


def test_complex_to_rgb_does_not_mutate_input():
    z = np.array([1 + 1j, np.nan])
    before = z.copy()
    complex_to_rgb(z)
    np.testing.assert_array_equal(z, before)


# --- rows and normalisation ----------------------------------------------------------------


def test_rows_to_bins_paper_sequence():
    sm = make_sm(0.0)
    assert rows_to_bins(sm, list(BINS)) == list(BINS.values())
    assert rows_to_bins(sm, [(-1, 2)]) == [18]  # MPIFiles' worked example
    with pytest.raises(ValueError, match="outside"):
        rows_to_bins(sm, [(60, 0)])


def test_row_images_row_normalisation_shared_across_angles():
    a, b = make_sm(0.0, scale=1.0), make_sm(45.0, scale=3.0)
    images, vmax = row_images([a, b], [(1, 1), (3, 3)], channel=0)
    assert images.shape == (2, 2, 4, 5, 3)
    # one vmax per row equal to the largest |S| of that row over both matrices (b is 3x a)
    for r, k in enumerate((33, 99)):
        expected = np.abs(b.data[0, list(b.frequency_indices).index(k)]).max()
        np.testing.assert_allclose(vmax[r], [expected, expected])
    # the brightest pixel of b is at full brightness; a is three times darker
    v_a, v_b = images[:, 0].max(axis=-1), images[:, 1].max(axis=-1)
    np.testing.assert_allclose(v_b.max(axis=(1, 2)), 1.0)
    np.testing.assert_allclose(v_a, v_b / 3, atol=1e-12)


def test_row_images_panel_normalisation_and_pixel_layout():
    a = make_sm(0.0, scale=1.0)
    images, vmax = row_images([a, make_sm(30.0, scale=5.0)], [(3, 3)], channel=1, normalization="panel")
    np.testing.assert_allclose(images[0, 0], images[0, 1], atol=1e-12)  # same pattern, own scales
    # pixel (iy, ix) shows position ix + Nx*iy (x fastest); compare against the hand-made value
    row = a.data[1, 3].reshape(4, 5)
    np.testing.assert_allclose(images[0, 0], complex_to_rgb(row, vmax[0, 0]), atol=1e-12)
    iy, ix = 2, 3
    o = ix + 5 * iy
    np.testing.assert_allclose(images[0, 0, iy, ix], complex_to_rgb(np.array([a.data[1, 3, o]]), vmax[0, 0])[0])


def test_row_images_errors():
    sm = make_sm(0.0, bins=(0, 16, 33))
    with pytest.raises(ValueError, match="bin 99 is not stored"):
        row_images([sm], [(3, 3)])
    with pytest.raises(ValueError, match="channel 2"):
        row_images([sm], [(1, 1)], channel=2)
    with pytest.raises(ValueError, match="normalization"):
        row_images([sm], [(1, 1)], normalization="global")
    with pytest.raises(ValueError, match="different grids"):
        row_images([sm, make_sm(10.0, grid=(3, 3), bins=(0, 16, 33))], [(1, 1)])
    with pytest.raises(ValueError, match="mixing order"):
        row_images([sm], [(1, 2, 3)])


# --- figures ---------------------------------------------------------------------------------


def test_plot_rows_figure_layout_and_titles(tmp_path):
    pytest.importorskip("matplotlib")
    from mdf_neel.plot import plot_rows, save_figure

    sms = [make_sm(ang) for ang in (0.0, 45.0, 90.0)]
    fig = plot_rows(sms, [(1, 1), (3, 3), (5, 5)], channel=0)
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 3 * 3 + 1  # panels + colour wheel
    titles = [ax.get_title() for ax in image_axes[:9]]
    assert titles[0] == "ϑ = 0°, (1,1)" and titles[4] == "ϑ = 45°, (3,3)" and titles[8] == "ϑ = 90°, (5,5)"
    images, _ = row_images(sms, [(1, 1), (3, 3), (5, 5)])
    np.testing.assert_allclose(image_axes[5].images[0].get_array(), images[1, 2])
    out = save_figure(fig, tmp_path / "rows.png")
    with open(out, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_cli_plot_sorts_files_by_angle(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from mdf_neel.mdf import writer
    import mdf_neel.plot as plot_module
    from mdf_neel.cli import main

    paths = []
    for ang in (90.0, 0.0, 45.0):
        p = tmp_path / f"sm{int(ang)}.mdf"
        sm = make_sm(ang)
        sm.snr = np.ones((2, sm.num_frequencies))
        writer.write_system_matrix(p, sm)
        paths.append(str(p))
    seen = {}
    original = plot_module.plot_rows

    def spy(matrices, *args, **kwargs):
        seen["angles"] = [m.easy_axis_angle_deg for m in matrices]
        seen["channel"] = args[1]
        return original(matrices, *args, **kwargs)

    monkeypatch.setattr(plot_module, "plot_rows", spy)
    out = tmp_path / "fig.png"
    assert main(["plot", *paths, "--rows", "1,1", "3,3", "--channel", "y", "--out", str(out)]) == 0
    assert seen == {"angles": [0.0, 45.0, 90.0], "channel": 1}
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert main(["plot", paths[0], "--rows", "9,9", "--out", str(out)]) == 2  # bin 297 not stored


def test_cli_plot_parser():
    from mdf_neel.cli import build_parser

    args = build_parser().parse_args(["plot", "a.mdf", "b.mdf", "--rows", "1,1", "(5,3)", "--channel", "2"])
    assert args.files == ["a.mdf", "b.mdf"] and args.rows == [(1, 1), (5, 3)] and args.channel == 1
    with pytest.raises(SystemExit):
        build_parser().parse_args(["plot", "a.mdf", "--rows", "1;1"])
