"""What every figure module shares: matplotlib (Agg, the report's style), saving a figure with its
title, caption and legend text, the notes for the index page, panel grids, line colours per
series, x scaling and colour bars."""
import math
import os
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .util import MAX_LINES, finite, fmt_value, near_square_shape, write_file  # noqa: E402

STYLE = {
    "font.size": 10, "axes.titlesize": 10.5, "axes.labelsize": 10, "legend.fontsize": 8.5,
    "xtick.labelsize": 9, "ytick.labelsize": 9, "figure.titlesize": 12, "axes.grid": True,
    "grid.alpha": 0.3, "savefig.facecolor": "white", "figure.facecolor": "white",
}


class Figure:
    """A saved figure as the index page shows it; `legend` is the text of every legend entry drawn."""

    def __init__(self, group, name, title, caption, legend):
        self.group, self.name, self.title, self.caption, self.legend = group, name, title, caption, legend


class Canvas:
    def __init__(self, archive, outdir, dpi, units):
        plt.rcParams.update(STYLE)
        self.plt = plt
        self.archive = archive
        self.classes = archive.classes
        self.outdir = outdir
        self.dpi = dpi
        self.units = units
        self.figures = []
        self.notes = list(archive.notes)
        self.input_shape = None
        size = archive.dataset.get("input_size")
        if size is None and archive.recon_originals is not None:
            size = archive.recon_originals.shape[1]
        if size is not None:
            self.input_shape = near_square_shape(int(size))

    # -- bookkeeping

    def save(self, fig, name, group, title, caption):
        sup = getattr(fig, "_suptitle", None)
        if sup is not None:
            # Wrap a title wider than the figure (about 8 characters per inch at 12 pt).
            width = max(20, int(fig.get_figwidth() * 8))
            sup.set_text(textwrap.fill(sup.get_text(), width))
        legend = [t.get_text() for ax in fig.axes if ax.get_legend() is not None
                  for t in ax.get_legend().get_texts()]
        try:
            write_file(os.path.join(self.outdir, name), lambda path: fig.savefig(path, dpi=self.dpi, format="png"))
        finally:
            plt.close(fig)
        self.figures.append(Figure(group, name, title, caption, legend))

    def figure(self, name):
        """The saved Figure of that file name, or None."""
        return next((f for f in self.figures if f.name == name), None)

    def note(self, msg):
        self.notes.append(msg)

    def unit_count(self, hidden):
        if self.units:
            return min(hidden, self.units)
        return hidden if hidden <= 196 else 100

    # -- layout and colours

    def panel_grid(self, n, width=4.4, height=3.4, ncols_max=3):
        ncols = min(ncols_max, max(1, n))
        nrows = math.ceil(n / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(max(5.6, width * ncols), height * nrows + 0.5),
                                 squeeze=False, layout="constrained")
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        return fig, list(axes.flat[:n])

    @staticmethod
    def ramp(i, n):
        """The i-th of n viridis colours, one blue for a single line."""
        return plt.get_cmap("viridis")(0.05 + 0.8 * i / max(1, n - 1)) if n > 1 else "tab:blue"

    @staticmethod
    def series_colours(sec, n):
        """n line colours for runs of primary_series: the viridis ramp along a numeric x key, tab10
        (tab20 beyond ten) when a key that tells the runs apart is categorical (adam vs sgd)."""
        if any(not sec.numeric(k) for k in sec.series_keys):
            cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
            return [cmap(i % cmap.N) for i in range(n)]
        return [Canvas.ramp(i, n) for i in range(n)]

    @staticmethod
    def series_legend(ax, n):
        """A legend of n runs: inside where it covers the fewest points ("best") for up to 3, else
        outside the axes to the right, where it hides no line."""
        if n > 3:
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7.5, frameon=False, borderaxespad=0)
        else:
            ax.legend(loc="best", fontsize=8.5)

    def line_groups(self, sec, runs):
        """[(label, colour, runs sorted by x)] one line per combination of the other swept keys."""
        others = [k for k in sec.varying if k != sec.xkey]
        groups = {}
        for r in sorted(runs, key=sec.sort_key):
            groups.setdefault(tuple(sec.rank(r, k) for k in others), []).append(r)
        keys = sorted(groups)
        omitted = False
        if len(keys) > MAX_LINES and len(others) > 1:
            keys = [k for k in keys if all(i == 0 for i in k[1:])]
            omitted = True
        if len(keys) > MAX_LINES:
            step = (len(keys) - 1) / (MAX_LINES - 1)
            keys = sorted({keys[round(i * step)] for i in range(MAX_LINES)})
            omitted = True
        ramp = len(others) == 1 and sec.numeric(others[0]) and len(keys) > 1
        out = []
        for i, key in enumerate(keys):
            rs = groups[key]
            label = ", ".join(f"{sec.label(k)} = {fmt_value(k, rs[0].settings.get(k))}" for k in others)
            colour = self.ramp(i, len(keys)) if ramp else plt.get_cmap("tab10")(i % 10)
            out.append((label, colour, rs))
        return out, omitted, others

    @staticmethod
    def scale_x(ax, values):
        vals = np.array([v for v in values if finite(v)], dtype=float)
        pos = vals[vals > 0]
        if len(pos) >= 2 and np.all(vals >= 0) and pos.max() / pos.min() >= 100:
            if np.any(vals == 0):
                ax.set_xscale("symlog", linthresh=float(pos.min()))
            else:
                ax.set_xscale("log")
        elif vals.size and 0 < np.abs(vals).max() < 1e-2:
            ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))

    def colorbar_for(self, fig, ax, sec, key, runs):
        n = len(runs)
        lc = mcolors.ListedColormap([self.ramp(i, n) for i in range(n)])
        norm = mcolors.BoundaryNorm(np.arange(n + 1) - 0.5, n)
        sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=lc)
        cb = fig.colorbar(sm, ax=ax, ticks=range(n), fraction=0.08, pad=0.02)
        cb.ax.set_yticklabels([fmt_value(key, r.settings.get(key)) for r in runs], fontsize=7.5)
        cb.set_label(sec.label(key))
