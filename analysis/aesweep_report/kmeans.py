"""k-means on the latent codes: silhouette and inertia against k (paper 000 fig. 9)."""
import numpy as np

from .util import MAX_LINES, thin


def kmeans_figure(canvas, sec, analysed, group):
    runs = [r for r in sec.primary_series(analysed) if isinstance(r.analysis.get("kmeans_k"), np.ndarray)
            and r.analysis["kmeans_k"].size > 0]
    if not runs:
        return
    runs = thin(runs, MAX_LINES)
    fig, axes = canvas.plt.subplots(1, 2, figsize=(10 if len(runs) <= 3 else 12.5, 3.9), layout="constrained")
    colours = canvas.series_colours(sec, len(runs))
    any_sil = False
    for i, r in enumerate(runs):
        colour = colours[i]
        k = np.asarray(r.analysis["kmeans_k"], float)
        sil = np.asarray(r.analysis.get("kmeans_silhouette", np.full_like(k, np.nan)), float)
        inertia = np.asarray(r.analysis.get("kmeans_inertia", np.full_like(k, np.nan)), float)
        label = f"{r.index}: " + (sec.describe(r, sec.series_keys) or "run") + (" (diverged)" if r.state == 2 else "")
        axes[0].plot(k, sil, marker="o", markersize=3.5, color=colour, label=label)
        axes[1].plot(k, inertia, marker="o", markersize=3.5, color=colour, label=label)
        any_sil |= bool(np.isfinite(sil).any())
    axes[0].set_title("silhouette of the k-means clustering")
    axes[0].set_ylabel("silhouette score")
    axes[1].set_title("k-means inertia")
    axes[1].set_ylabel("inertia (sum of squared distances)")
    for ax in axes:
        ax.set_xlabel("number of clusters k")
        ax.xaxis.get_major_locator().set_params(integer=True)
    if not any_sil:
        # Nothing drawn: the x axis spans the k values tried (not matplotlib's empty -0.05..0.05), no y scale.
        ks = np.concatenate([np.asarray(r.analysis["kmeans_k"], float) for r in runs])
        axes[0].set_xlim(ks.min() - 0.5, ks.max() + 0.5)
        axes[0].set_yticks([])
        axes[0].text(0.5, 0.5, "silhouette undefined (NaN) for every k", ha="center", va="center",
                     transform=axes[0].transAxes)
    canvas.series_legend(axes[1], len(runs))
    title = f"k-means on the latent codes — section '{sec.title}'"
    fig.suptitle(title)
    caption = (f"Silhouette score (left) and inertia (right) of k-means clusterings of the test-set latent codes "
               f"against the number of clusters k. Runs: {sec.run_list(runs)} (paper 000 fig. 9).")
    canvas.save(fig, f"kmeans_{sec.file_id}.png", group, title, caption)
