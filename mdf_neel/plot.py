"""Pictures of system-matrix rows: complex values as colour (like Fig. 1 of Albers et al. 2022).

Reference: H. Albers et al., "Modeling the magnetization dynamics for large ensembles of
immobilized magnetic nanoparticles in multi-dimensional magnetic particle imaging",
J. Magn. Magn. Mater. (2022).

Colour convention
-----------------
A complex value ``z`` is shown with its **phase as hue** and its **magnitude as
brightness** (HSV with full saturation):

* hue ``= (arg z mod 2π) / 2π``: phase 0 is red, 2π/3 green, 4π/3 (= −2π/3) blue,
  π cyan, π/2 yellow-green, −π/2 violet;
* value (brightness) ``= clip(|z| / vmax, 0, 1)``: zero is black, ``|z| >= vmax`` is
  the fully bright colour; non-finite values are black.

Normalisation (``normalization=``)
----------------------------------
``"row"`` (default, as in the paper): one ``vmax`` per frequency row (mixing order),
the largest magnitude of that row over **all** matrices shown (all angles, all
models), so brightness is comparable across angles and models but not between rows.
``"panel"``: every image is scaled by its own maximum.

Only :func:`plot_rows` and :func:`save_figure` need matplotlib (an optional
dependency, ``pip install "mdf-neel[plot]"``); it is imported on first use and the
figure is rendered with the non-interactive Agg canvas (no pyplot, no display).
"""

from __future__ import annotations

import logging
import os

import numpy as np

from ._atomic import atomic_path
from .sequence import mixing_order_to_bin

__all__ = [
    "complex_to_rgb",
    "rows_to_bins",
    "row_images",
    "plot_rows",
    "save_figure",
]

logger = logging.getLogger("mdf_neel.plot")

NORMALIZATIONS = ("row", "panel")
DEFAULT_ROWS = ((1, 1), (3, 3), (5, 5))


def complex_to_rgb(values, vmax=None) -> np.ndarray:
    """Map complex values to RGB: phase → hue, magnitude → brightness.

    Parameters
    ----------
    values : array_like, complex, any shape ``S``
        Values to colour.
    vmax : float, optional
        Magnitude shown at full brightness; larger magnitudes are clipped. Default:
        the largest finite magnitude in ``values`` (all black if that is 0).

    Returns
    -------
    numpy.ndarray of float64, shape ``S + (3,)``
        RGB in [0, 1]. Hue ``(arg z mod 2π)/2π`` (0 red, 1/3 green, 2/3 blue),
        saturation 1, value ``clip(|z|/vmax, 0, 1)``; NaN/inf give black.

    Examples
    --------
    >>> import numpy as np
    >>> complex_to_rgb(np.array([1.0, 1j, -1.0, 0.0])).shape  # hue = phase, value = magnitude
    (4, 3)
    """
    z = np.asarray(values)
    z = z.astype(np.complex128, copy=False) if np.iscomplexobj(z) else z.astype(np.float64).astype(np.complex128)
    finite = np.isfinite(z)
    mag = np.where(finite, np.abs(np.where(finite, z, 0)), 0.0)
    if vmax is None:
        vmax = float(mag.max()) if mag.size else 0.0
    vmax = float(vmax)
    if not np.isfinite(vmax) or vmax < 0:
        raise ValueError(f"vmax must be a finite number >= 0, got {vmax!r}")
    value = np.clip(mag / vmax, 0.0, 1.0) if vmax > 0 else np.zeros_like(mag)
    hue = np.mod(np.angle(np.where(finite, z, 0)), 2 * np.pi) / (2 * np.pi)
    return _hsv_to_rgb_full_saturation(hue, value)


def _hsv_to_rgb_full_saturation(hue, value):
    """HSV → RGB for saturation 1 (hue in [0, 1), value in [0, 1])."""
    h6 = np.mod(hue, 1.0) * 6.0
    sector = np.floor(h6).astype(np.int64) % 6
    frac = h6 - np.floor(h6)
    v = value
    rising = v * frac  # "t" in the usual HSV formulas
    falling = v * (1.0 - frac)  # "q"
    zero = np.zeros_like(v)
    # (r, g, b) per sector 0..5
    choices = (
        (v, rising, zero),
        (falling, v, zero),
        (zero, v, rising),
        (zero, falling, v),
        (rising, zero, v),
        (v, zero, falling),
    )
    rgb = np.zeros(np.shape(v) + (3,))
    for s, (r, g, b) in enumerate(choices):
        m = sector == s
        rgb[..., 0] = np.where(m, r, rgb[..., 0])
        rgb[..., 1] = np.where(m, g, rgb[..., 1])
        rgb[..., 2] = np.where(m, b, rgb[..., 2])
    return rgb


def rows_to_bins(system_matrix, rows) -> list:
    """0-based rfft bins of the mixing orders ``rows`` for a matrix's sequence.

    Bin ``k = mx·m_x + my·m_y`` with ``m`` the drive periods per cycle
    (:attr:`~mdf_neel.sequence.DriveField.harmonics_per_cycle`, 16 and 17 for the
    paper's sequence), the relation behind the mixing-order table of
    :func:`~mdf_neel.sequence.mixing_orders`.

    Parameters
    ----------
    system_matrix : SystemMatrix
    rows : sequence of (int, int)
        Mixing orders (mx, my).

    Returns
    -------
    list of int
    """
    harmonics = tuple(int(v) for v in system_matrix.drive_field.harmonics_per_cycle) + (1, 1)
    kfull = system_matrix.receiver.num_frequencies
    bins = []
    for mx, my in rows:
        k = mixing_order_to_bin(int(mx), int(my), 0, harmonics=harmonics[:3])
        if not 0 <= k < kfull:
            raise ValueError(f"mixing order ({mx}, {my}) is bin {k}, outside 0..{kfull - 1} of this sequence")
        bins.append(k)
    return bins


def _parse_rows(rows):
    out = []
    for r in rows:
        if isinstance(r, str):
            r = r.replace("(", "").replace(")", "").split(",")
        try:
            mx, my = (int(v) for v in r)
        except (TypeError, ValueError):
            raise ValueError(f"a row must be a mixing order (mx, my), got {r!r}") from None
        out.append((mx, my))
    if not out:
        raise ValueError("no rows to plot")
    return out


def _check_inputs(system_matrices, channel, normalization):
    if not isinstance(system_matrices, (list, tuple)):
        system_matrices = [system_matrices]
    if not system_matrices:
        raise ValueError("no system matrices to plot")
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    for i, sm in enumerate(system_matrices):
        if not 0 <= int(channel) < sm.num_channels:
            raise ValueError(f"channel {channel} does not exist in matrix {i} ({sm.num_channels} channels)")
    return list(system_matrices)


def _row_slice(sm, channel, k, z_index):
    where = np.flatnonzero(sm.frequency_indices == k)
    if where.size == 0:
        name = sm.source_path or repr(sm)
        raise ValueError(f"frequency bin {k} is not stored in {name}")
    image = sm.data[int(channel), where[0]].reshape(sm.grid_shape)  # (Nz, Ny, Nx)
    iz = image.shape[0] // 2 if z_index is None else int(z_index)
    return image[iz]  # (Ny, Nx), x along the second axis


def row_images(system_matrices, rows=DEFAULT_ROWS, channel=0, *, normalization="row", z_index=None):
    """RGB images of system-matrix rows (no matplotlib needed).

    Parameters
    ----------
    system_matrices : SystemMatrix or sequence of SystemMatrix, length A
        Typically one matrix per easy-axis angle, shown in the given order.
    rows : sequence of (int, int), length R
        Mixing orders (mx, my), mapped to bins by :func:`rows_to_bins`.
    channel : int
        0-based receive channel (0 = x).
    normalization : {"row", "panel"}
        See the module docstring.
    z_index : int, optional
        Grid plane shown for 3-D grids (default: the middle plane).

    Returns
    -------
    images : numpy.ndarray, shape (R, A, Ny, Nx, 3)
        RGB in [0, 1]; image row index = y offset (ascending), column = x offset.
    vmax : numpy.ndarray, shape (R, A)
        Magnitude shown at full brightness in each panel.

    Examples
    --------
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> sm = system_matrix(seq, grid, angle_deg=0.0, diameter_m=20e-9, model="langevin", frequencies=[16, 17, 33])
    >>> images, vmax = row_images([sm], rows=[(1, 0), (0, 1)])  # mixing orders (mx, my)
    >>> images.shape  # (rows, matrices, Ny, Nx, RGB)
    (2, 1, 3, 3, 3)
    """
    sms = _check_inputs(system_matrices, channel, normalization)
    rows = _parse_rows(rows)
    panels = [
        [_row_slice(sm, channel, k, z_index) for sm, k in ((sm, rows_to_bins(sm, [r])[0]) for sm in sms)] for r in rows
    ]
    shapes = {p.shape for row in panels for p in row}
    if len(shapes) != 1:
        raise ValueError(f"the matrices have different grids {sorted(shapes)}; plot them separately")
    R, A = len(rows), len(sms)
    vmax = np.zeros((R, A))
    for r in range(R):
        mags = [float(np.nanmax(np.abs(p))) if np.isfinite(p).any() else 0.0 for p in panels[r]]
        vmax[r] = max(mags) if normalization == "row" else mags
    images = np.stack([np.stack([complex_to_rgb(panels[r][a], vmax[r, a]) for a in range(A)]) for r in range(R)])
    return images, vmax


def _require_matplotlib():
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # optional dependency
        raise ImportError(
            "mdf_neel.plot.plot_rows needs matplotlib; install it with: pip install 'mdf-neel[plot]'"
        ) from exc
    return Figure, FigureCanvasAgg


def _extent(sm):
    """imshow extent (x0, x1, y0, y1) in mT (field grids) or mm (position grids), and the unit."""
    scale, unit = (1e3, "mT") if sm.field_of_view_unit == "T" else (1e3, "mm")
    c, f = sm.field_of_view_center[:2] * scale, sm.field_of_view[:2] * scale
    if np.all(f > 0):
        return (c[0] - f[0] / 2, c[0] + f[0] / 2, c[1] - f[1] / 2, c[1] + f[1] / 2), unit
    return None, None


def _angle_label(sm):
    return "ϑ = n.a." if sm.easy_axis_angle_deg is None else f"ϑ = {sm.easy_axis_angle_deg:g}°"


def plot_rows(
    system_matrices,
    rows=DEFAULT_ROWS,
    channel=0,
    *,
    normalization="row",
    z_index=None,
    labels=None,
    panel_size_in=1.6,
    colorwheel=True,
):
    """Images of system-matrix rows over the offset grid, one column per matrix.

    Parameters
    ----------
    system_matrices : SystemMatrix or sequence of SystemMatrix, length A
        Shown left to right in the given order (sort them by angle first).
    rows : sequence of (int, int)
        Mixing orders (mx, my), one figure row each (default (1,1), (3,3), (5,5)).
    channel : int
        0-based receive channel (0 = x, 1 = y).
    normalization : {"row", "panel"}
        ``"row"``: one brightness scale per mixing order shared by all columns
        (the paper's Fig. 1 convention); ``"panel"``: each image on its own.
    z_index : int, optional
        Plane shown for 3-D grids (default: middle).
    labels : sequence of str, optional
        Column titles (default: ``"ϑ = <angle>°"`` from ``easy_axis_angle_deg``).
    panel_size_in : float
        Edge length of one panel in inches.
    colorwheel : bool
        Add a small phase/magnitude key (hue = phase, brightness = magnitude).

    Returns
    -------
    matplotlib.figure.Figure
        Attached to an Agg canvas; save it with :func:`save_figure` or ``fig.savefig``.

    Examples
    --------
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> sm = system_matrix(seq, grid, angle_deg=0.0, diameter_m=20e-9, model="langevin", frequencies=[16, 17, 33])
    >>> import os, tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")  # no display needed
    >>> fig = plot_rows([sm], rows=[(1, 0), (0, 1)], labels=["0°"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_figure(fig, os.path.join(tmp, "rows.png"))
    ...     size = os.path.getsize(path)
    >>> size > 0
    True
    """
    Figure, FigureCanvasAgg = _require_matplotlib()
    sms = _check_inputs(system_matrices, channel, normalization)
    rows = _parse_rows(rows)
    images, _ = row_images(sms, rows, channel, normalization=normalization, z_index=z_index)
    if labels is not None and len(labels) != len(sms):
        raise ValueError(f"{len(labels)} labels for {len(sms)} matrices")
    R, A = images.shape[:2]
    extra = 1 if colorwheel else 0
    fig = Figure(figsize=(panel_size_in * (A + extra) + 0.6, panel_size_in * R + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(R, A + extra)
    extent, unit = _extent(sms[0])
    channel_name = "xyz"[channel] if channel < 3 else str(channel + 1)
    for r, (mx, my) in enumerate(rows):
        for a, sm in enumerate(sms):
            ax = fig.add_subplot(grid[r, a])
            ax.imshow(images[r, a], origin="lower", extent=extent, interpolation="nearest", aspect="equal")
            title = (labels[a] if labels is not None else _angle_label(sm)) + f", ({mx},{my})"
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
            if a == 0:
                ax.set_ylabel(f"(mx,my) = ({mx},{my})", fontsize=8)
    if colorwheel:
        ax = fig.add_subplot(grid[0, A])
        _draw_colorwheel(ax)
    span = ""
    if extent is not None:
        span = f"; x offset → ({extent[1] - extent[0]:.3g} {unit}), y offset ↑ ({extent[3] - extent[2]:.3g} {unit})"
    fig.suptitle(f"receive channel {channel_name}, normalisation per {normalization}{span}", fontsize=9)
    return fig


def _draw_colorwheel(ax, n=101):
    u = np.linspace(-1, 1, n)
    z = u[None, :] + 1j * u[:, None]
    rgb = complex_to_rgb(np.where(np.abs(z) <= 1, z, np.nan), 1.0)
    ax.imshow(rgb, origin="lower", extent=(-1, 1, -1, 1))
    ax.set_title("phase → hue\n|S| → brightness", fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("Re", fontsize=7)
    ax.set_ylabel("Im", fontsize=7)


def save_figure(fig, path, *, dpi=120):
    """Render ``fig`` with the Agg canvas and write it atomically to ``path``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or os.PathLike
        Target; the format follows its extension (``.png``, ``.pdf``, ``.svg``, ...).
    dpi : float
    """
    _, FigureCanvasAgg = _require_matplotlib()
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi)
    logger.info("wrote %s", path)
    return path
