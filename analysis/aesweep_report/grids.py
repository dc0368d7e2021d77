"""Metric grids: test MSE and latent density heatmaps for a section that sweeps exactly two
settings (paper 004's activation x hidden size)."""
import numpy as np

from .util import fmt_value

METRICS = [("test MSE", "test_mse", "magma_r"), ("latent density", "latent_density", "viridis")]


def grid_figure(canvas, sec, group):
    """Drawn for a grid section only: the points of a search section fill few cells of the value
    table (9 random points: 3 of 81), and the overview already colours them by the second key."""
    if len(sec.varying) != 2 or sec.search:
        return
    a, b = sec.varying
    if sec.numeric(a) and not sec.numeric(b):
        a, b = b, a
    rows, cols = sec.values[a], sec.values[b]
    if len(rows) < 2 or len(cols) < 2:
        return
    nr, nc = len(rows), len(cols)
    cell = 0.52 if max(nr, nc) <= 6 else 0.42
    w, h = max(3.6, nc * cell + 1.9), max(2.8, nr * cell + 1.6)
    fig, axes = canvas.plt.subplots(1, 2, figsize=(2 * w, h), layout="constrained")
    for ax, (label, key, cmap) in zip(axes, METRICS):
        m = np.full((nr, nc), np.nan)
        for r in sec.done_runs():
            i, j = sec.rank(r, a), sec.rank(r, b)
            if i < nr and j < nc:
                m[i, j] = r.metric(key)
        heatmap(canvas, fig, ax, m, cmap)
        ax.set_xticks(range(nc))
        ax.set_xticklabels([fmt_value(b, v) for v in cols], rotation=45 if nc > 5 else 0,
                           ha="right" if nc > 5 else "center")
        ax.set_yticks(range(nr))
        ax.set_yticklabels([fmt_value(a, v) for v in rows])
        ax.set_xlabel(sec.label(b))
        ax.set_ylabel(sec.label(a))
        ax.set_title(label)
    title = f"{sec.label(a)} × {sec.label(b)} — section '{sec.title}'"
    fig.suptitle(title)
    caption = (f"Test MSE (left) and latent density (right) of every run of section '{sec.title}' on the "
               f"{sec.label(a)} × {sec.label(b)} grid (paper 004-style table); grey cells '—' have no "
               f"run trained to the end or a NaN value" + missing_runs(sec)
               + f". Runs: {', '.join(str(r.index) for r in sorted(sec.runs, key=sec.sort_key))}.")
    canvas.save(fig, f"grid_{sec.file_id}.png", group, title, caption)


def missing_runs(sec):
    """' (pending or failed runs: 3; stopped by the schedule at an early rung: 4, 5)' for the caption."""
    parts = []
    unfinished = ", ".join(str(r.index) for r in sec.runs if not r.done and not r.stopped)
    stopped = ", ".join(str(r.index) for r in sec.runs if r.stopped)
    if unfinished:
        parts.append(f"pending or failed runs: {unfinished}")
    if stopped:
        parts.append(f"stopped by the schedule at an early rung, not drawn: {stopped}")
    return f" ({'; '.join(parts)})" if parts else ""


def heatmap(canvas, fig, ax, m, cmap):
    """m as coloured cells with their values written in; NaN cells grey with '—'."""
    cm = canvas.plt.get_cmap(cmap).copy()
    cm.set_bad("0.85")
    im = ax.imshow(np.ma.masked_invalid(m), cmap=cm, aspect="auto")
    fin = m[np.isfinite(m)]
    lo, hi = (fin.min(), fin.max()) if fin.size else (0, 1)
    fs = 8 if max(m.shape) <= 6 else 6
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            v = m[i, j]
            if np.isfinite(v):
                t = (v - lo) / (hi - lo) if hi > lo else 0.5
                dark = t > 0.55 if cmap == "magma_r" else t < 0.45
                ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=fs, color="white" if dark else "black")
            else:
                ax.text(j, i, "—", ha="center", va="center", fontsize=fs, color="0.4")
    ax.grid(False)
    fig.colorbar(im, ax=ax, shrink=0.9)
