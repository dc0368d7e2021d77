"""Loss curves: per-epoch train and test loss of a section's runs along its x axis."""
import numpy as np

from .util import MAX_LINES, thin

LOSS_NAMES = {"mse": "MSE", "sum_squares": "sum of squares", "bce": "binary cross-entropy"}


def loss_figure(canvas, sec, group):
    curves = []
    for r in sec.primary_series(sec.done_runs()):
        tr = canvas.archive.run_data(r, "train_loss")
        te = canvas.archive.run_data(r, "test_loss")
        if tr is not None and te is not None and (np.any(np.isfinite(tr)) or np.any(np.isfinite(te))):
            curves.append((r, np.asarray(tr, float), np.asarray(te, float)))
    if not curves:
        return
    curves = thin(curves, MAX_LINES)
    fig, axes = canvas.plt.subplots(1, 2, figsize=(10 if len(curves) <= 3 else 12.5, 3.8), layout="constrained",
                                    sharey=True)
    colours = canvas.series_colours(sec, len(curves))
    losses = {r.settings.get("model.loss") for r, _, _ in curves}
    lname = LOSS_NAMES.get(losses.pop(), "loss") if len(losses) == 1 else "loss"
    positive = True
    for i, (r, tr, te) in enumerate(curves):
        label = f"{r.index}: " + (sec.describe(r, sec.series_keys) or f"run {r.index:06d}") + (
            " (diverged)" if r.state == 2 else "")
        for ax, c in zip(axes, (tr, te)):
            ax.plot(np.arange(1, len(c) + 1), c, marker="o", markersize=3, color=colours[i],
                    label=label)
            positive &= bool(np.all(c[np.isfinite(c)] > 0))
    for ax, t in zip(axes, ("training set", "test set")):
        ax.set_xlabel("epoch")
        ax.set_title(f"{lname} on the {t}")
        ax.xaxis.get_major_locator().set_params(integer=True)
        if positive:
            ax.set_yscale("log")
    axes[0].set_ylabel(f"{lname} (reconstruction term)")
    canvas.series_legend(axes[1], len(curves))
    title = f"Loss curves — section '{sec.title}'"
    fig.suptitle(title)
    caption = (f"Per-epoch reconstruction loss (without the penalty) on the training set (left) and test set "
               f"(right) for section '{sec.title}': {sec.run_list([c[0] for c in curves])}. Epochs not reached are "
               "not drawn.")
    canvas.save(fig, f"loss_curves_{sec.file_id}.png", group, title, caption)
