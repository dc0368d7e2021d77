"""Encoder weights: W1 as one input-image tile per hidden unit (paper 000 figs. 4 and 5)."""
import numpy as np

from .util import as_image, fmt_number, near_square_shape, padded_square_shape, wrap


def weights_figure(canvas, sec, picks, group):
    panels = []
    for r in picks:
        w = canvas.archive.run_data(r, "encoder_kernel")
        if w is None or w.ndim != 2:
            continue
        w = np.asarray(w, dtype=np.float64)[:, :canvas.unit_count(w.shape[1])]
        if not np.any(np.isfinite(w)):
            canvas.note(f"Run {r.index:06d}: encoder weights are not finite; no weight tiles.")
            continue
        panels.append((r, w))
    if not panels:
        return
    tile = canvas.input_shape or near_square_shape(panels[0][1].shape[0])
    fig, axes = canvas.plt.subplots(1, len(panels), figsize=(max(5.6, 4.3 * len(panels)), 5.0), squeeze=False,
                                    layout="constrained")
    shown_units = set()
    for ax, (r, w) in zip(axes[0], panels):
        shown_units.add((w.shape[1], int(r.settings.get("model.hidden", w.shape[1]))))
        fin = np.abs(w[np.isfinite(w)])
        lim = float(np.percentile(fin, 99.5)) if fin.size else 1.0
        lim = lim if lim > 0 else 1.0
        cm = canvas.plt.get_cmap("RdBu_r").copy()
        cm.set_bad("0.55")
        im = ax.imshow(np.ma.masked_invalid(mosaic(w, tile)), cmap=cm, vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.set_title(f"{r.name}\n{wrap(sec.describe(r) or 'no swept setting', 44)}", fontsize=9.5)
        cb = fig.colorbar(im, ax=ax, orientation="horizontal", fraction=0.05, pad=0.02)
        cb.set_label("weight (W1)", fontsize=9)
        cb.ax.tick_params(labelsize=8)
        ax.set_xlabel(f"fraction of W1 near zero: {fmt_number(r.metric('w1_near_zero'), 3)}", fontsize=8.5)
    title = f"Encoder weights W1 — section '{sec.title}'"
    fig.suptitle(title)
    units_txt = "; ".join(f"first {n} of {h} hidden units" if n < h else f"all {h} hidden units"
                          for n, h in sorted(shown_units))
    caption = (f"Encoder weight matrix W1 of section '{sec.title}' as {tile[0]}×{tile[1]} input-pixel tiles, one per "
               f"hidden unit ({units_txt}), red positive, blue negative, white zero; one colour scale per run "
               f"(±99.5th percentile of |W1|). Runs: {sec.run_list([p[0] for p in panels])} "
               f"(paper 000 figs. 4 and 5).")
    canvas.save(fig, f"weights_{sec.file_id}.png", group, title, caption)


def mosaic(w, tile):
    """The columns of w as tiles of shape `tile` on a near-square grid, one NaN pixel between them."""
    n_units = w.shape[1]
    gr, gc = padded_square_shape(n_units)
    th, tw = tile
    out = np.full((gr * (th + 1) + 1, gc * (tw + 1) + 1), np.nan)
    for u in range(n_units):
        i, j = divmod(u, gc)
        img = w[:, u].reshape(th, tw) if w.shape[0] == th * tw else as_image(w[:, u], tile)
        out[1 + i * (th + 1): 1 + i * (th + 1) + th, 1 + j * (tw + 1): 1 + j * (tw + 1) + tw] = img
    return out
