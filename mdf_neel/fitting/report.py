"""Pictures and a short text report of fitted M0/M1/M2 models (matplotlib, no pyplot state).

* :func:`plot_error_map` — ε_global over the (D, K) grid (over D for M0);
* :func:`plot_frequency_errors` — ε per frequency (eq. 21) over the mixing orders (mx, my);
* :func:`plot_angle_boxplot` — per-angle statistics of the row errors (paper Fig. 6 bottom);
* :func:`plot_weights` — M2 weights over (D, K);
* :func:`write_report` — all of the above as PNG files plus ``report.md``.
"""

from __future__ import annotations

import os

import numpy as np

from .._atomic import atomic_path
from .metrics import frequency_errors_from_rows

__all__ = ["plot_error_map", "plot_frequency_errors", "plot_angle_boxplot", "plot_weights", "write_report"]


def _figure(figsize=(5.5, 4.2)):
    from matplotlib.figure import Figure  # Agg canvas, no global pyplot state

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def plot_error_map(estimator, ax=None):
    """ε_global of every grid point; the selected optimum is marked. Returns the axes."""
    if ax is None:
        _, ax = _figure()
    e = np.asarray(estimator.error_map_)
    d_nm = np.asarray(estimator.diameters_m_) * 1e9
    if e.ndim == 1:
        ax.plot(d_nm, e, "o-")
        ax.set_xlabel("core diameter D [nm]")
        ax.set_ylabel("ε_global")
    else:
        k, label, ticks = _second_axis(estimator)
        im = ax.imshow(e, origin="lower", aspect="auto", cmap="viridis", extent=_extent(k, d_nm))
        ax.figure.colorbar(im, ax=ax, label="ε_global")
        _label_second_axis(ax, k, label, ticks)
        ax.set_ylabel("core diameter D [nm]")
        i_d, i_k = np.unravel_index(np.argmin(e), e.shape)
        ax.plot(k[i_k], d_nm[i_d], "r+", ms=12, mew=2)
    ax.set_title(f"{type(estimator).__name__}: error map (min {np.min(e):.4f})")
    return ax


def _second_axis(estimator):
    """Positions, label and tick labels (or None) of the maps' second axis: K, or the liquid
    parameter fitted in its place (one cell per grid value: liquid grids are often geometric)."""
    liquid = getattr(estimator, "liquid_parameter_", None)
    if liquid is None:
        return np.asarray(estimator.anisotropies_Jm3_), "anisotropy K [J/m³]", None
    scale, label = (
        (1e3, "viscosity η [mPa s]") if liquid == "viscosity_Pas" else (1e9, "hydrodynamic diameter D_h [nm]")
    )
    values = np.asarray(estimator.liquid_values_) * scale
    return np.arange(values.size, dtype=float), label, [f"{v:.3g}" for v in values]


def _label_second_axis(ax, positions, label, ticks):
    ax.set_xlabel(label)
    if ticks is not None:
        ax.set_xticks(positions, ticks)


def _extent(x, y):
    def edges(v):
        v = np.asarray(v, dtype=float)
        if v.size == 1:
            return v[0] - 0.5, v[0] + 0.5
        step = (v[-1] - v[0]) / (v.size - 1)
        return v[0] - step / 2, v[-1] + step / 2

    return (*edges(x), *edges(y))


def plot_frequency_errors(estimator, ax=None, vmax=None):
    """ε per frequency (eq. 21) on the (mx, my) mixing-order grid. Returns the axes."""
    if ax is None:
        _, ax = _figure()
    per_f = frequency_errors_from_rows(estimator.row_errors_, estimator.channel_reduction)
    orders = getattr(estimator, "mixing_orders_", None)
    if orders is None:
        ax.plot(estimator.frequency_indices_, per_f, ".")
        ax.set_xlabel("rfft bin k")
        ax.set_ylabel("ε_freq")
    else:
        orders = np.asarray(orders)
        img = np.full((orders[:, 1].max() + 1, orders[:, 0].max() + 1), np.nan)
        img[orders[:, 1], orders[:, 0]] = per_f
        im = ax.imshow(img, origin="lower", cmap="magma", vmin=0, vmax=vmax)
        ax.figure.colorbar(im, ax=ax, label="ε_freq")
        ax.set_xlabel("mixing order mx")
        ax.set_ylabel("mixing order my")
    ax.set_title(f"{type(estimator).__name__}: per-frequency error")
    return ax


def plot_angle_boxplot(estimators, ax=None):
    """Per-angle box plots of the row errors (channels x rows per angle), paper Fig. 6.

    Parameters
    ----------
    estimators : estimator or dict of {label: estimator}
        Fitted models (same angles) drawn side by side.
    """
    if ax is None:
        _, ax = _figure((8, 4.2))
    if not isinstance(estimators, dict):
        estimators = {type(estimators).__name__: estimators}
    n = len(estimators)
    width = 0.8 / n
    for i, (label, est) in enumerate(estimators.items()):
        e = np.asarray(est.row_errors_)
        values = [row.ravel() for row in e.reshape(e.shape[0], -1)]
        pos = np.arange(e.shape[0]) + (i - (n - 1) / 2) * width
        bp = ax.boxplot(values, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=False)
        color = f"C{i}"
        for box in bp["boxes"]:
            box.set_facecolor(color)
            box.set_alpha(0.6)
        ax.plot([], [], color=color, lw=6, alpha=0.6, label=label)
    first = next(iter(estimators.values()))
    ax.set_xticks(np.arange(len(first.angles_deg_)))
    ax.set_xticklabels([f"{a:g}°" for a in first.angles_deg_])
    ax.set_xlabel("easy-axis angle ϑ")
    ax.set_ylabel("ε per row")
    ax.legend()
    ax.set_title("per-angle row errors")
    return ax


def plot_weights(estimator, ax=None):
    """M2 weights over (D, K). Returns the axes."""
    if ax is None:
        _, ax = _figure()
    w = np.asarray(estimator.weights_)
    d_nm = np.asarray(estimator.diameters_m_) * 1e9
    k, label, ticks = _second_axis(estimator)
    im = ax.imshow(w, origin="lower", aspect="auto", cmap="Greys", extent=_extent(k, d_nm))
    ax.figure.colorbar(im, ax=ax, label="weight")
    _label_second_axis(ax, k, label, ticks)
    ax.set_ylabel("core diameter D [nm]")
    ax.set_title(f"DictionaryModel weights (rank {getattr(estimator, 'rank_', '?')})")
    return ax


def _save(ax, path):
    with atomic_path(path, suffix=".partial.png") as tmp:
        ax.figure.savefig(tmp, dpi=120, format="png")
    return path


def write_report(estimator, directory) -> list:
    """Write the pictures of one fitted model and ``report.md`` into ``directory``.

    Returns
    -------
    list of str
        The written files.
    """
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    files = [
        _save(plot_error_map(estimator), os.path.join(directory, "error_map.png")),
        _save(plot_frequency_errors(estimator), os.path.join(directory, "frequency_errors.png")),
        _save(plot_angle_boxplot(estimator), os.path.join(directory, "angle_boxplot.png")),
    ]
    if hasattr(estimator, "weights_"):
        files.append(_save(plot_weights(estimator), os.path.join(directory, "weights.png")))
    lines = [
        f"# {type(estimator).__name__} fit",
        "",
        f"- tf_mode: {estimator.tf_mode}",
        f"- angles [deg]: {', '.join(f'{a:g}' for a in estimator.angles_deg_)}",
        f"- rows: {len(estimator.frequency_indices_)}, channels: {', '.join(estimator.channels_)}",
        f"- ε_global (training, eq. 22): {estimator.training_error_:.4f}",
    ]
    if getattr(estimator, "best_params_", None):
        lines.append(f"- best parameters: {estimator.best_params_}")
    if hasattr(estimator, "weights_"):
        lines.append(f"- rank kept: {estimator.rank_}; atoms with non-zero weight: {len(estimator.atom_weights_)}")
        order = np.argsort(estimator.atom_weights_)[::-1][:10]
        liquid = getattr(estimator, "atom_liquid_values_", None)
        for i in order:
            d, k = estimator.atom_params_[i]
            second = f"K = {k:.0f} J/m³" if liquid is None else f"{estimator.liquid_parameter_} = {liquid[i]:.4g}"
            lines.append(f"  - D = {d * 1e9:.1f} nm, {second}: w = {estimator.atom_weights_[i]:.4g}")
    med = np.median(np.asarray(estimator.row_errors_).reshape(len(estimator.angles_deg_), -1), axis=1)
    lines.append(
        "- median row error per angle: " + ", ".join(f"{a:g}°: {m:.3f}" for a, m in zip(estimator.angles_deg_, med))
    )
    lines += ["", *[f"![{os.path.basename(f)}]({os.path.basename(f)})" for f in files], ""]
    md = os.path.join(directory, "report.md")
    with atomic_path(md) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
    return files + [md]
