"""Reconstructions: one test image per class; per run its latent code, the L2-normalised code and
the reconstruction (paper 000 fig. 6)."""
import numpy as np

from .util import as_image, fmt_number, near_square_shape, padded_square_shape


def recon_columns(arc):
    """Positions in /dataset/recon_* to show: one per class where possible (up to 10), class order."""
    n_all = min(len(arc.recon_indices), len(arc.recon_originals))
    labelled = arc.labels is not None and arc.recon_indices[:n_all].max() < len(arc.labels)
    cols, seen = [], set()
    if labelled:
        for j in range(n_all):
            lab = int(arc.labels[arc.recon_indices[j]])
            if lab not in seen:
                seen.add(lab)
                cols.append(j)
    cols = cols[:10]
    cols += [j for j in range(n_all) if j not in cols][:max(0, 10 - len(cols))]
    return sorted(cols, key=lambda j: (int(arc.labels[arc.recon_indices[j]]) if seen else 0, j))


def recon_blocks(arc, picks, idx, cols):
    """[(run, latent codes, L2-normalised codes, reconstructions)] of the picked runs that have them."""
    blocks = []
    for r in picks:
        lat = arc.latent_rows(r, idx)
        rec = arc.run_data(r, "reconstructions")
        if lat is None or rec is None:
            continue
        norms = np.linalg.norm(lat, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            unit = np.where(norms > 0, lat / np.where(norms > 0, norms, 1), 0.0)
        blocks.append((r, lat, unit, np.asarray(rec, dtype=np.float64)[cols]))
    return blocks


def image_row(canvas, ax, images, name, cmap, vmin, vmax):
    """One axes per row, one image per column (far faster than one axes per image)."""
    cm = canvas.plt.get_cmap(cmap).copy()
    cm.set_bad("0.8")
    for j, img in enumerate(images):
        ax.imshow(np.ma.masked_invalid(img), cmap=cm, vmin=vmin, vmax=vmax, interpolation="nearest",
                  extent=(j + 0.06, j + 0.94, 0.03, 0.97))
    ax.set_xlim(-1.6, len(images))  # room for the row label inside the axes
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.text(-0.08, 0.5, name, ha="right", va="center", fontsize=9.5)


def value_range(a):
    """(low, high) for a colour scale of a: from min(0, smallest) to the largest finite value."""
    fin = a[np.isfinite(a)]
    lo = min(0.0, float(fin.min())) if fin.size else 0.0
    hi = float(fin.max()) if fin.size else 1.0
    return lo, (hi if hi > lo else lo + 1.0)


def run_rows(canvas, axes, sec, block, tile, vmax):
    r, lat, unit, rec = block
    lshape = padded_square_shape(lat.shape[1])
    image_row(canvas, axes[0], [as_image(v, lshape) for v in lat], "latent h", "viridis", *value_range(lat))
    image_row(canvas, axes[1], [as_image(v, lshape) for v in unit], "h / ‖h‖₂", "viridis", *value_range(unit))
    image_row(canvas, axes[2], [as_image(v, tile) for v in rec], "reconstruction", "gray", 0.0, vmax)
    desc = sec.describe(r)
    axes[0].set_title(r.name + (f" — {desc}" if desc else "")
                      + f" — test MSE {fmt_number(r.metric('test_mse'), 3)}, latent density "
                      f"{fmt_number(r.metric('latent_density'), 3)}", fontsize=10, pad=8)


def recon_figure(canvas, sec, picks, group):
    arc, classes = canvas.archive, canvas.classes
    if arc.recon_originals is None or arc.recon_indices is None or len(arc.recon_indices) == 0:
        return
    cols = recon_columns(arc)
    idx, originals = arc.recon_indices[cols], arc.recon_originals[cols]
    blocks = recon_blocks(arc, picks, idx, cols)
    if not blocks:
        return
    tile = canvas.input_shape or near_square_shape(originals.shape[1])
    labels = arc.labels[idx] if arc.labels is not None and idx.max() < len(arc.labels) else None
    nrows, n_show = 1 + 3 * len(blocks), len(cols)
    fig, axes = canvas.plt.subplots(nrows, 1, figsize=(0.95 * (n_show + 1.6) + 0.3, 0.98 * nrows + 0.3 * len(blocks)
                                                       + 0.9), layout="constrained", squeeze=False)
    axes = axes[:, 0]
    vmax = max(1.0, float(np.nanmax(originals)) if np.isfinite(originals).any() else 1.0)
    image_row(canvas, axes[0], [as_image(o, tile) for o in originals], "original", "gray", 0.0, vmax)
    if labels is not None:
        axes[0].set_xticks(np.arange(n_show) + 0.5)
        axes[0].set_xticklabels([classes.name(l) for l in labels], fontsize=9 if classes.style == "digits" else 7.5)
        axes[0].xaxis.tick_top()
        axes[0].tick_params(length=0)
    for b, block in enumerate(blocks):
        run_rows(canvas, axes[1 + 3 * b: 4 + 3 * b], sec, block, tile, vmax)
    title = f"Originals, latent codes and reconstructions — section '{sec.title}'"
    fig.suptitle(title, fontsize=11.5)
    shapes = []
    for h in sorted({b[1].shape[1] for b in blocks}):
        rows, columns = padded_square_shape(h)
        shapes.append(f"{h} units as {rows}×{columns}" + (" padded with grey" if rows * columns != h else ""))
    listing = classes.listing(sorted(set(labels.tolist()))) if labels is not None else ""
    caption = (f"Top row: {n_show} test {classes.items} (/dataset/recon_originals, test positions "
               f"{', '.join(map(str, idx.tolist()))}" + (f"; classes {listing}" if listing else "")
               + f"). Then for each run: its latent code h ({', '.join(shapes)}; brighter = larger, one colour "
               f"scale per run), the L2-normalised code h/‖h‖₂, and the reconstruction. Runs: "
               f"{sec.run_list([b[0] for b in blocks])} (paper 000 fig. 6).")
    canvas.save(fig, f"recon_{sec.file_id}.png", group, title, caption)
