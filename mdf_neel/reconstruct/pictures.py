"""Pictures of orientation images: concentration as brightness, orientation as hue."""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["plot_orientation", "orientation_rgb"]

logger = logging.getLogger("mdf_neel.reconstruct")


def orientation_rgb(total, angle_deg, coherence=None, vmax=None) -> np.ndarray:
    """RGB image: hue = dominant angle (0–180° once around the colour circle),
    saturation = coherence (1 if None), value = total / vmax.

    Parameters
    ----------
    total, angle_deg : array_like, shape (Ny, Nx)
        Total concentration and dominant angle [deg] (NaN allowed where total = 0).
    coherence : array_like, shape (Ny, Nx), optional
    vmax : float, optional
        Brightness scale (default the largest total).

    Returns
    -------
    numpy.ndarray, float64, shape (Ny, Nx, 3)
        Values in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> rgb = orientation_rgb(np.array([[1.0, 0.0]]), np.array([[0.0, np.nan]]))
    >>> rgb[0, 0].tolist(), rgb[0, 1].tolist()  # 0° is red at full brightness; empty is black
    ([1.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    """
    total = np.nan_to_num(np.asarray(total, dtype=np.float64), nan=0.0)
    hue = np.mod(np.nan_to_num(np.asarray(angle_deg, dtype=np.float64), nan=0.0), 180.0) / 180.0
    sat = np.ones_like(total) if coherence is None else np.clip(np.nan_to_num(coherence, nan=0.0), 0.0, 1.0)
    vmax = float(np.max(total)) if vmax is None else float(vmax)
    value = np.clip(total / vmax, 0.0, 1.0) if vmax > 0 else np.zeros_like(total)
    # HSV -> RGB (the usual six sectors)
    h6 = hue * 6.0
    sector = np.floor(h6).astype(np.int64) % 6
    frac = h6 - np.floor(h6)
    p = value * (1.0 - sat)
    q = value * (1.0 - sat * frac)
    t = value * (1.0 - sat * (1.0 - frac))
    table = ((value, t, p), (q, value, p), (p, value, t), (p, q, value), (t, p, value), (value, p, q))
    rgb = np.zeros(total.shape + (3,))
    for s, channels in enumerate(table):
        m = sector == s
        for ch in range(3):
            rgb[..., ch] = np.where(m, channels[ch], rgb[..., ch])
    return rgb


def _extent(rec):
    scale, unit = (1e3, "mT") if rec.field_of_view_unit == "T" else (1e3, "mm")
    c, f = rec.field_of_view_center[:2] * scale, rec.field_of_view[:2] * scale
    if np.all(f > 0):
        return (c[0] - f[0] / 2, c[0] + f[0] / 2, c[1] - f[1] / 2, c[1] + f[1] / 2), unit
    return None, "pixel"


def plot_orientation(rec, path=None, *, frame: int = 0, z_index: int = 0, dpi: float = 120, title=None):
    """Orientation picture and per-angle concentration panels of a reconstruction.

    Left: the orientation image (hue = dominant easy-axis angle over 180°, saturation =
    coherence, brightness = total concentration) with a hue key. Right: one panel per
    angle block with its concentration (grey scale shared by all panels).

    Parameters
    ----------
    rec : Reconstruction
    path : str or os.PathLike, optional
        Write the figure there (atomically; format from the extension).
    frame, z_index : int
        Which frame and z slice.
    dpi : float
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ImportError
        Without matplotlib (an optional dependency).

    Examples
    --------
    >>> import numpy as np
    >>> from mdf_neel.reconstruct import Reconstruction, ReconstructionSettings
    >>> conc = np.zeros((1, 2, 1, 3, 3))
    >>> conc[0, 1, 0, 1, 1] = 1.0  # one unit at the centre with easy axis 90°
    >>> rec = Reconstruction(concentration=conc, angles_deg=np.array([0.0, 90.0]), grid_size=np.array([3, 3, 1]),
    ...     field_of_view=np.array([0.03, 0.03, 0.0]), field_of_view_center=np.zeros(3), field_of_view_unit="T",
    ...     frequency_indices=np.array([33]), row_mask=np.ones((2, 1), bool), row_scale=np.ones((2, 1)),
    ...     lambda_abs=0.0, residual=np.zeros(1), settings=ReconstructionSettings())
    >>> fig = plot_orientation(rec)  # add a path to write the picture
    >>> len(fig.axes)  # orientation image, hue key, one panel per angle
    4
    """
    from ..plot import _require_matplotlib, save_figure

    Figure, FigureCanvasAgg = _require_matplotlib()
    om = rec.orientation()
    total, angle, coh = (a[frame, z_index] for a in (om.total, om.angle_deg, om.coherence))
    conc = rec.concentration[frame, :, z_index]
    A = conc.shape[0]
    ncols = min(A, 6)
    nrows = -(-A // ncols)
    fig = Figure(figsize=(4.2 + 1.9 * ncols, max(3.6, 1.9 * nrows + 0.6)))
    FigureCanvasAgg(fig)
    extent, unit = _extent(rec)
    gs = fig.add_gridspec(nrows, ncols + 2, width_ratios=[2.2, 0.15] + [1.0] * ncols)
    ax = fig.add_subplot(gs[:, 0])
    ax.imshow(orientation_rgb(total, angle, coh), origin="lower", extent=extent, interpolation="nearest")
    ax.set_title("orientation (hue), total (brightness)", fontsize=9)
    ax.set_xlabel(f"x [{unit}]")
    ax.set_ylabel(f"y [{unit}]")
    key = fig.add_subplot(gs[:, 1])
    hues = np.linspace(0.0, 180.0, 181)[:, None]
    key.imshow(orientation_rgb(np.ones_like(hues), hues), origin="lower", aspect="auto", extent=(0, 1, 0, 180))
    key.set_xticks([])
    key.yaxis.tick_right()
    key.set_yticks([0, 45, 90, 135, 180])
    key.set_ylabel("ϑ [deg]", fontsize=8)
    key.yaxis.set_label_position("right")
    vmax = float(max(conc.max(), 0.0)) or 1.0
    for a in range(A):
        axp = fig.add_subplot(gs[a // ncols, 2 + a % ncols])
        axp.imshow(conc[a], origin="lower", extent=extent, cmap="gray", vmin=0.0, vmax=vmax, interpolation="nearest")
        axp.set_title(f"ϑ = {rec.angles_deg[a]:g}°", fontsize=8)
        axp.set_xticks([])
        axp.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path, dpi=dpi)
    return fig
