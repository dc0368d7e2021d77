"""t-SNE of the test-set latent codes, coloured by class (paper 000 fig. 8)."""
import numpy as np
from matplotlib.lines import Line2D

from .canvas import plt
from .util import finite, fmt_number, wrap


def tsne_panels(canvas, picks):
    """([(run, embedding)] that can be drawn, [why the others cannot])."""
    labels = canvas.archive.labels
    panels, notes = [], []
    for r in picks:
        reason = r.a("tsne_nan_reason", "")
        emb = canvas.archive.tsne_embedding(r)
        if emb is None:
            notes.append(f"{r.name}: no t-SNE embedding" + (f" ({reason})" if reason else
                                                                       " (analysed with --no-tsne)"))
        elif (reason and not finite(r.a("tsne_kl_divergence"))) or not np.all(np.isfinite(emb)):
            notes.append(f"{r.name}: t-SNE not computed — {reason or 'non-finite embedding'}")
        elif labels is None or len(labels) != emb.shape[0]:
            notes.append(f"{r.name}: t-SNE embedding has {emb.shape[0]} points but the archive has "
                         f"{0 if labels is None else len(labels)} test labels")
        else:
            panels.append((r, emb))
    return panels, notes


def legend_entries(classes, labels):
    """[(class name, tab10 colour)] of every class present, in label order: the t-SNE legend."""
    cmap = plt.get_cmap("tab10")
    return [(classes.name(c), cmap(int(c) % 10)) for c in sorted(set(np.asarray(labels).tolist()))]


def unmatched_points(r):
    """Test codes whose t-SNE affinities could not reach the perplexity (0 when unknown)."""
    n = r.a("tsne_perplexity_unmatched", 0)
    return int(n) if finite(n) and n > 0 else 0


def tsne_caption(classes, labels, sec, runs, notes, off=()):
    """off: ["run 000001: 37", ...], the drawn runs with codes off the perplexity."""
    listing = classes.listing(sorted(set(np.asarray(labels).tolist())))
    return (f"2-D t-SNE embedding of every test {classes.item}'s latent code, coloured by {classes.noun} (tab10"
            + (f": {listing}" if listing else "") + f"). Runs: {sec.run_list(runs)} (paper 000 fig. 8)."
            + (" Codes whose affinities could not reach the perplexity (their nearest neighbours all at one "
               "distance, as repeated codes are), so their neighbourhoods are wider than the others': "
               + "; ".join(off) + "." if off else "")
            + (" Not shown: " + "; ".join(notes) + "." if notes else ""))


def tsne_figure(canvas, sec, picks, group):
    labels, classes = canvas.archive.labels, canvas.classes
    panels, notes = tsne_panels(canvas, picks)
    for n in notes:
        canvas.note(f"Section '{sec.title}', t-SNE: {n}.")
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels) + 1.1, 4.6), squeeze=False,
                             layout="constrained")
    cmap = plt.get_cmap("tab10")
    for ax, (r, emb) in zip(axes[0], panels):
        order = np.random.default_rng(0).permutation(len(emb))
        ax.scatter(emb[order, 0], emb[order, 1], c=[cmap(int(l) % 10) for l in labels[order]], s=3,
                   alpha=0.75, linewidths=0, rasterized=True)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("t-SNE 1")
        ax.set_ylabel("t-SNE 2")
        ax.grid(False)
        ax.set_title(f"{r.name}\n{wrap(sec.describe(r), 44)}", fontsize=9)
        stats = (f"KL {fmt_number(r.a('tsne_kl_divergence'), 3)}, trustworthiness "
                 f"{fmt_number(r.a('tsne_trustworthiness'), 3)}")
        if unmatched_points(r):
            stats += f"\n{unmatched_points(r)} codes off the perplexity"
        ax.text(0.01, 0.01, stats, transform=ax.transAxes, fontsize=7.5, va="bottom",
                bbox=dict(facecolor="white", alpha=0.8, edgecolor="none", pad=1.5))
    handles = [Line2D([], [], marker="o", linestyle="none", color=colour, markersize=7, label=name)
               for name, colour in legend_entries(classes, labels)]
    axes[0][-1].legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, fontsize=9)
    title = f"t-SNE of the test-set latent codes — section '{sec.title}'"
    fig.suptitle(title)
    canvas.save(fig, f"tsne_{sec.file_id}.png", group, title,
                tsne_caption(classes, labels, sec, [p[0] for p in panels], notes,
                             [f"{r.name}: {unmatched_points(r)}" for r, _ in panels if unmatched_points(r)]))
