"""Cosine similarity of latent codes: same- vs different-class histograms (paper 000 figs. 6a-7c)
and class-mean cosine matrices."""
import math
import textwrap

import numpy as np

from .util import finite, fmt_number, thin, wrap

SAME_COLOR, DIFFERENT_COLOR = "tab:blue", "tab:orange"


def histogram_range(runs):
    """Common x range of the panels: from the first non-empty bin of any (rounded down to 0.25) to 1."""
    lo = 0.0
    for r in runs:
        for key in ("cosine_same_histogram", "cosine_different_histogram"):
            h = np.asarray(r.analysis.get(key, []), float)
            nz = np.flatnonzero(h > 0)
            if nz.size:
                lo = min(lo, -1.0 + 2.0 * nz[0] / len(h))
    return max(-1.0, math.floor(lo / 0.25) * 0.25)


def histogram_panel(ax, r, classes):
    """One run's two histograms as densities with their means; False when it has no pairs."""
    same = np.asarray(r.analysis["cosine_same_histogram"], float)
    diff = np.asarray(r.analysis.get("cosine_different_histogram", np.zeros_like(same)), float)
    edges = np.linspace(-1, 1, len(same) + 1)
    width = edges[1] - edges[0]
    drew = False
    for h, colour, name, key in ((same, SAME_COLOR, f"same {classes.noun}", "cosine_same"),
                                 (diff, DIFFERENT_COLOR, f"different {classes.noun}", "cosine_different")):
        if h.sum() <= 0:
            continue
        dens = h / (h.sum() * width)
        ax.stairs(dens, edges, fill=True, alpha=0.35, color=colour)
        ax.stairs(dens, edges, color=colour, linewidth=1.3, label=f"{name}: mean {fmt_number(r.a(key + '_mean'), 3)}")
        if finite(r.a(key + "_mean")):
            ax.axvline(r.a(key + "_mean"), color=colour, linestyle="--", linewidth=1)
        drew = True
    zero = r.a("cosine_zero_rows", 0)
    if drew:
        ax.legend(loc="upper left", fontsize=7.5)
        if zero:
            ax.text(0.98, 0.97, f"{zero} zero codes excluded", ha="right", va="top", transform=ax.transAxes,
                    fontsize=7.5, color="0.3")
    else:
        reason = r.a("cosine_nan_reason", "") or "no pairs"
        ax.text(0.5, 0.5, textwrap.fill(f"no cosine statistics: {reason}" + (f" ({zero} all-zero codes)" if zero
                                                                             else ""), 32),
                ha="center", va="center", transform=ax.transAxes, fontsize=9)
        ax.set_yticks([])
        ax.grid(False)
    return drew


def cosine_hist_figure(canvas, sec, analysed, group):
    classes = canvas.classes
    runs = [r for r in sec.primary_series(analysed) if isinstance(r.analysis.get("cosine_same_histogram"), np.ndarray)]
    if not runs:
        return
    runs = thin(runs, 6)
    fig, axes = canvas.panel_grid(len(runs), width=3.9, height=3.1, ncols_max=3)
    lo = histogram_range(runs)
    notes = []
    for ax, r in zip(axes, runs):
        if not histogram_panel(ax, r, classes):
            notes.append(f"{r.name}: {r.a('cosine_nan_reason', '') or 'no pairs'}")
        ax.set_xlim(lo, 1)
        ax.set_xlabel("cosine similarity of latent codes")
        ax.set_ylabel("density")
        ax.set_title(f"{r.name}\n{wrap(sec.describe(r), 48)}", fontsize=9)
    title = f"Cosine similarity, same vs different {classes.noun} — section '{sec.title}'"
    fig.suptitle(title)
    caption = (f"Distribution of the cosine similarity between test-set latent codes of the same {classes.noun} "
               f"(blue) and of different {classes.nouns} (orange), as densities; dashed lines are the means. Runs: "
               f"{sec.run_list(runs)} (paper 000 figs. 6a–7c)."
               + (" No statistics for " + "; ".join(notes) + "." if notes else ""))
    canvas.save(fig, f"cosine_hist_{sec.file_id}.png", group, title, caption)


def class_matrix(ax, m, classes, labels, vmin, vmax, cm):
    n = m.shape[0]
    im = ax.imshow(np.ma.masked_invalid(m), cmap=cm, vmin=vmin, vmax=vmax)
    fs = 6.5 if n <= 10 else 5
    for i in range(n):
        for j in range(m.shape[1]):
            if np.isfinite(m[i, j]):
                t = (m[i, j] - vmin) / (vmax - vmin)
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=fs,
                        color="black" if t > 0.6 else "white")
    ax.set_xticks(range(m.shape[1]))
    ax.set_yticks(range(n))
    ticks = [classes.tick(c) for c in labels]
    rotate = classes.style != "digits"
    ax.set_xticklabels(ticks[: m.shape[1]], rotation=60 if rotate else 0, ha="right" if rotate else "center")
    ax.set_yticklabels(ticks[:n])
    ax.set_xlabel(classes.noun)
    ax.set_ylabel(classes.noun)
    ax.grid(False)
    return im


def cosine_class_figure(canvas, sec, picks, group):
    classes = canvas.classes
    panels = [r for r in picks if isinstance(r.analysis.get("cosine_class_mean"), np.ndarray)
              and r.analysis["cosine_class_mean"].ndim == 2 and r.analysis["cosine_class_mean"].size > 0]
    if not panels:
        return
    mats = [np.asarray(r.analysis["cosine_class_mean"], float) for r in panels]
    fin = np.concatenate([m[np.isfinite(m)] for m in mats])
    vmin, vmax = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
    if vmax <= vmin:
        vmax = vmin + 1e-6
    fig, axes = canvas.plt.subplots(1, len(panels), figsize=(max(5.6, 3.9 * len(panels) + 0.9), 5.0), squeeze=False,
                                    layout="constrained")
    cm = canvas.plt.get_cmap("viridis").copy()
    cm.set_bad("0.85")
    im = None
    for ax, r, m in zip(axes[0], panels, mats):
        labels = r.analysis.get("cosine_classes")
        labels = list(np.asarray(labels).tolist()) if labels is not None else list(range(m.shape[0]))
        im = class_matrix(ax, m, classes, labels, vmin, vmax, cm)
        ax.set_title(f"{r.name}\n{wrap(sec.describe(r), 44)}", fontsize=9)
    cb = fig.colorbar(im, ax=list(axes[0]), shrink=0.85)
    cb.set_label("mean cosine similarity")
    title = f"Mean cosine similarity between {classes.kind} — section '{sec.title}'"
    fig.suptitle(title)
    listing = classes.listing(labels)
    caption = (f"Entry (a, b): mean cosine similarity between the latent codes of test {classes.items} of class a and "
               f"class b (diagonal = same {classes.noun}), shared colour scale"
               + (f"; classes {listing}" if listing else "") + f". Runs: {sec.run_list(panels)}.")
    canvas.save(fig, f"cosine_classes_{sec.file_id}.png", group, title, caption)
