"""Study overview: a metric against the swept hyperparameter, one panel per section
(mse_vs_lambda, density_vs_lambda, cosine_vs_lambda, knn_silhouette_vs_lambda)."""
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from .util import finite, fmt_value, wrap

GROUP = "Across sections"


def overview_figures(canvas, sections):
    c = canvas.classes
    metric_figure(
        canvas, sections, "mse_vs_lambda.png", "Reconstruction error against the swept hyperparameter",
        "MSE (mean over pixels)",
        [("test", "-", "o", lambda r: r.metric("test_mse")), ("train", "--", "s", lambda r: r.metric("train_mse"))],
        "Train (dashed) and test (solid) mean squared reconstruction error of every finished run, one panel per "
        "sweep section, x = the hyperparameter the section sweeps (paper 000 fig. 1).")
    metric_figure(
        canvas, sections, "density_vs_lambda.png", "Latent density against the swept hyperparameter",
        "latent density (fraction nonzero)", [("density", "-", "o", lambda r: r.metric("latent_density"))],
        "Latent density = fraction of nonzero entries of the test-set latent codes (paper 000's \"sparsity\"; "
        "lower = sparser), one panel per sweep section (paper 000 figs. 2 and 3).", ylim=(-0.02, 1.02))
    if not any(r.analysis is not None for r in canvas.archive.runs):
        return
    metric_figure(
        canvas, sections, "cosine_vs_lambda.png", f"Mean cosine similarity of latent codes, same vs different {c.noun}",
        "mean cosine similarity",
        [(f"same {c.noun}", "-", "o", lambda r: r.a("cosine_same_mean")),
         (f"different {c.noun}", "--", "s", lambda r: r.a("cosine_different_mean"))],
        f"Mean cosine similarity between test-set latent codes of the same {c.noun} (solid) and of different "
        f"{c.nouns} (dashed); all-zero codes are excluded.", needs_analysis=True)
    metric_figure(
        canvas, sections, "knn_silhouette_vs_lambda.png", "Class structure of the latent space", "score",
        [("kNN accuracy", "-", "o", lambda r: r.a("knn_accuracy")),
         (f"silhouette ({c.noun} labels)", "--", "s", lambda r: r.a("silhouette"))],
        f"Leave-one-out k-nearest-neighbour accuracy of the {c.noun} label (solid) and silhouette score of the "
        f"latent codes grouped by {c.noun} label (dashed), Euclidean distance.", needs_analysis=True,
        reasons={"kNN accuracy": "knn_nan_reason", f"silhouette ({c.noun} labels)": "silhouette_nan_reason"})


def metric_figure(canvas, sections, name, title, ylabel, series, caption_intro, needs_analysis=False, ylim=None,
                  reasons=None):
    """series: [(label suffix, linestyle, marker, fn(run) -> value)]. Lines join the complete runs;
    diverged runs are never part of them, whatever their metrics: each is a red × at its x. A series
    NaN for every run of a panel is left out of its legend, and the caption says why (reasons: label
    suffix -> the analysis attribute that holds a run's NaN reason)."""
    panels = []
    for sec in sections:
        runs = [r for r in sec.runs if r.state == 1 and (r.analysis is not None or not needs_analysis)
                and any(finite(fn(r)) for _, _, _, fn in series)]
        diverged = [r for r in sec.runs if r.state == 2]
        if runs or diverged:
            panels.append((sec, runs, diverged))
    if not panels:
        return
    fig, axes = canvas.panel_grid(len(panels))
    parts = [metric_panel(canvas, fig, ax, sec, runs, diverged, series, ylabel, ylim) + undefined_part(
        runs, series, reasons or {}) for ax, (sec, runs, diverged) in zip(axes, panels)]
    fig.suptitle(title)
    caption = caption_intro + " Runs per section — " + " | ".join(parts) + "."
    canvas.save(fig, name, GROUP, title, caption)


def x_position(sec, ticked):
    """fn(run) -> x: the swept value, or without a numeric swept key the run's tick (every run shown,
    complete or diverged, gets a tick of its own across all the groups; each category of a
    categorical key is a group of its own)."""
    if sec.xkey:
        return lambda r: float(r.settings.get(sec.xkey))
    tick = {r.index: i for i, r in enumerate(ticked)}
    return lambda r: tick[r.index]


def metric_panel(canvas, fig, ax, sec, runs, diverged, series, ylabel, ylim):
    """One section's panel; returns its part of the caption."""
    groups, omitted, others = canvas.line_groups(sec, runs)
    shown = sorted([r for _, _, rs in groups for r in rs], key=sec.sort_key)
    ticked = sorted(shown + diverged, key=sec.sort_key)
    x_of = x_position(sec, ticked)
    for label, colour, rs in groups:
        for suffix, ls, marker, fn in series:
            ax.plot([x_of(r) for r in rs], [fn(r) for r in rs], linestyle=ls if sec.xkey else "none", marker=marker,
                    color=colour, markersize=4.5, linewidth=1.6,
                    label=(label if len(series) == 1 else None) if label else suffix)
    mark_diverged(ax, [x_of(r) for r in diverged])
    if sec.xkey:
        ax.set_xlabel(sec.label(sec.xkey))
        canvas.scale_x(ax, [x_of(r) for r in ticked])
    else:
        x_axis_runs(ax, sec, ticked)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.set_title(f"section '{sec.title}'")
    # A series with no finite value in the panel is left out of the legend (the caption says why).
    named = [s for s in series if any(finite(s[3](r)) for r in runs)] if len(series) > 1 else []
    panel_legend(canvas, fig, ax, sec, named, groups, others, diverged)
    part = f"'{sec.title}': " + (sec.compact_runs(shown) if shown else "no complete run")
    if omitted:
        part += " (further values of " + ", ".join(sec.label(k) for k in others[1:] or others) + " omitted)"
    if diverged:
        part += "; diverged (red ×, their values not drawn): " + ", ".join(f"{r.index:06d}" for r in diverged)
    stopped = [r for r in sec.runs if r.stopped]
    if stopped:
        part += "; stopped by the schedule at an early rung, not drawn: " + ", ".join(f"{r.index:06d}" for r in stopped)
    return part


def undefined_part(runs, series, reasons):
    """'; no silhouette (digit labels) point: NaN for every run (why)' for each series no run of the panel has."""
    out = ""
    for suffix, _, _, fn in series:
        if runs and not any(finite(fn(r)) for r in runs):
            why = sorted({str(r.a(reasons[suffix], "")) for r in runs} - {""}) if suffix in reasons else []
            out += f"; no {suffix} point: NaN for every run" + (f" ({'; '.join(why)})" if why else "")
    return out


def mark_diverged(ax, xs):
    """Diverged runs as red × at the bottom of the panel, at their x."""
    if xs:
        ax.plot(xs, [0.03] * len(xs), linestyle="none", marker="x", color="red", markersize=7,
                transform=blended_transform_factory(ax.transData, ax.transAxes), clip_on=False)


def x_axis_runs(ax, sec, rs):
    """x = one tick per run, labelled with its values, for a section without a numeric swept key."""
    ax.set_xticks(range(len(rs)))
    ax.set_xticklabels([wrap(", ".join(fmt_value(k, r.settings.get(k)) for k in sec.shown_keys), 20)
                        or f"run {r.index}" for r in rs], rotation=30 if len(rs) > 3 else 0,
                       ha="right" if len(rs) > 3 else "center")
    ax.set_xlabel(wrap(", ".join(sec.label(k) for k in sec.shown_keys), 40) or "run")
    if len(rs) == 1:
        ax.set_xlim(-1, 1)


def panel_legend(canvas, fig, ax, sec, named, groups, others, diverged):
    """named: the series the legend names by line style (none for a one-series figure)."""
    handles = [Line2D([], [], color="0.2", linestyle=ls, marker=m, label=s) for s, ls, m, _ in named]
    if diverged:
        handles.append(Line2D([], [], color="red", marker="x", linestyle="none", label="diverged"))
    outside = False
    if others and len(groups) > 1:
        if len(groups) > 5 and len(others) == 1 and sec.numeric(others[0]):
            canvas.colorbar_for(fig, ax, sec, others[0], [g[2][0] for g in groups])
        else:
            handles += [Line2D([], [], color=c, marker="o", linestyle="-", label=wrap(l, 26)) for l, c, _ in groups]
            outside = True
    if handles and outside:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False,
                  borderaxespad=0)
    elif handles:
        ax.legend(handles=handles, loc="best", fontsize=8)
