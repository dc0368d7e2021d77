"""The trade-off paper 000 studies: test MSE against latent density, every complete run a point
coloured by its sweep section, the Pareto front of the whole study and of each section drawn as
steps (pareto_front.png). The front is computed here the way aesweep computes it for the summary's
pareto_front columns (src/archive/pareto.cpp), so partial archives get one too."""
import numpy as np
from matplotlib.lines import Line2D

from .overview import GROUP
from .util import finite


def pareto_front(error, density, eligible=None):
    """Which points no other eligible point beats: at most as large on both coordinates and
    smaller on one (both minimised). Non-finite or ineligible points are never on the front and
    never hide another; identical front points are all on it. A list of bools."""
    n = len(error)
    ok = [(eligible is None or eligible[i]) and finite(error[i]) and finite(density[i]) for i in range(n)]
    order = sorted((i for i in range(n) if ok[i]), key=lambda i: (error[i], density[i], i))
    front = [False] * n
    best = None  # (density, error) of the point that set the lowest density so far
    for i in order:
        if best is None or density[i] < best[0]:
            front[i] = True
            best = (density[i], error[i])
        elif density[i] == best[0] and error[i] == best[1]:
            front[i] = True
    return front


def front_steps(points):
    """The staircase through front points [(density, error)]: sorted by density, each step holds
    the error until the next sparser-but-worse point, as a minimisation front is drawn."""
    pts = sorted(set(points))
    xs, ys = [], []
    for k, (x, y) in enumerate(pts):
        if k:
            xs.append(x)
            ys.append(ys[-1])
        xs.append(x)
        ys.append(y)
    return xs, ys


def complete(run):
    return run.state == 1 and finite(run.metric("test_mse")) and finite(run.metric("latent_density"))


def pareto_figure(canvas, sections):
    """pareto_front.png: every complete run of every section shown, the study's front (black) and
    each section's (its colour, dashed)."""
    plt = canvas.plt
    shown = [(sec, [r for r in sec.runs if complete(r)]) for sec in sections]
    shown = [(sec, runs) for sec, runs in shown if runs]
    if not shown:
        return
    everyone = {r.index: r for _, runs in shown for r in runs}
    ids = sorted(everyone)
    mask = pareto_front([everyone[i].metric("test_mse") for i in ids],
                        [everyone[i].metric("latent_density") for i in ids])
    study_front = [i for i, on in zip(ids, mask) if on]

    fig, ax = plt.subplots(figsize=(7.4, 5.2), layout="constrained")
    cmap = plt.get_cmap("tab10" if len(shown) <= 10 else "tab20")
    handles, parts = [], []
    for k, (sec, runs) in enumerate(shown):
        colour = cmap(k % cmap.N)
        x = [r.metric("latent_density") for r in runs]
        y = [r.metric("test_mse") for r in runs]
        ax.scatter(x, y, s=26, color=colour, alpha=0.8, edgecolors="none", zorder=3)
        on = pareto_front(y, x)
        sec_front = [r for r, f in zip(runs, on) if f]
        if len(sec_front) > 1:
            fx, fy = front_steps([(r.metric("latent_density"), r.metric("test_mse")) for r in sec_front])
            ax.plot(fx, fy, color=colour, linestyle="--", linewidth=1.2, alpha=0.9, zorder=2)
        handles.append(Line2D([], [], color=colour, marker="o", linestyle="--" if len(sec_front) > 1 else "none",
                              label=f"{sec.title} ({len(runs)} runs)"))
        parts.append(f"'{sec.title}': " + ", ".join(f"{r.index:06d}" for r in sorted(sec_front, key=lambda r: r.index)))
    corners = [(everyone[i].metric("latent_density"), everyone[i].metric("test_mse")) for i in study_front]
    fx, fy = front_steps(corners)
    ax.plot(fx, fy, color="black", linewidth=2.0, zorder=4)
    ax.scatter([x for x, _ in corners], [y for _, y in corners], s=70, facecolors="none", edgecolors="black",
               linewidths=1.3, zorder=5)
    handles.append(Line2D([], [], color="black", marker="o", markerfacecolor="none", linewidth=2.0,
                          label="Pareto front, all sections"))
    handles.append(Line2D([], [], color="0.4", linestyle="--", linewidth=1.2, label="Pareto front of a section"))

    ys = np.array([everyone[i].metric("test_mse") for i in ids])
    if ys.min() > 0 and ys.max() / ys.min() >= 10:
        ax.set_yscale("log")
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("latent density: fraction of nonzero code values on the test set (lower = sparser)")
    ax.set_ylabel("test MSE per pixel (pixel values in [0, 1])")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
              borderaxespad=0)
    title = "Reconstruction error against sparsity: the Pareto front"
    fig.suptitle(title)
    left_out = sorted({r.index for sec in sections for r in sec.runs if r.state != 0 and not r.stopped
                       and not complete(r)})
    stopped = sorted({r.index for sec in sections for r in sec.runs if r.stopped})
    caption = (
        "Test mean squared error against latent density of every complete run, coloured by its sweep section (a run "
        "listed by several sections appears once in each colour). A run is on the Pareto front when no other "
        "complete run has both a lower-or-equal error and a lower-or-equal density, one of them strictly; the "
        "black staircase is the front of the whole study (runs " + ", ".join(f"{i:06d}" for i in study_front) +
        "), each dashed staircase the front within one section, so the section whose front lies lowest and "
        "leftmost buys sparsity most cheaply. Fronts per section — " + " | ".join(parts) + ".")
    if left_out:
        caption += (" Left out (diverged or failed, or a NaN metric): " +
                    ", ".join(f"{i:06d}" for i in left_out) + ".")
    if stopped:
        caption += (" Left out (stopped by the schedule at an early rung, so not trained to the end): " +
                    ", ".join(f"{i:06d}" for i in stopped) + ".")
    canvas.save(fig, "pareto_front.png", GROUP, title, caption)
    return study_front


def stored_front(archive):
    """The summary's pareto_front marks (format 3, once every run is done), as run indices; None
    when the archive has no such column or the study is not finished."""
    f = archive.f
    if "summary" not in f or "pareto_front" not in (f["summary"].dtype.names or ()):
        return None
    states = np.asarray(f["runs_state"][:])
    if (states == 0).any():
        return None
    marks = np.asarray(f["summary"][:]["pareto_front"])
    return [int(i) for i in np.flatnonzero(marks)]

