"""The Pareto front of test MSE against latent density (aesweep_report/pareto.py): the front itself
(ties, duplicates, NaN, runs that did not complete) and the figure pareto_front.png."""
import math
import os
import random
import shutil

import h5py
import numpy as np

from aesweep_report.archive import Archive
from aesweep_report.canvas import Canvas
from aesweep_report.pareto import front_steps, pareto_figure, pareto_front, stored_front
from aesweep_report.sections import build_sections
from helpers import assert_png, check_report
from synthetic import build_archive, plan

NAN = float("nan")


def on(mask):
    return [i for i, m in enumerate(mask) if m]


def test_front_keeps_the_trade_off_and_drops_dominated_points():
    assert on(pareto_front([0.10, 0.20, 0.30, 0.15, 0.40], [0.90, 0.50, 0.10, 0.95, 0.60])) == [0, 1, 2]


def test_ties_keep_only_the_better_other_coordinate_and_duplicates_stay_together():
    assert on(pareto_front([0.2, 0.2, 0.1], [0.5, 0.4, 0.9])) == [1, 2]
    assert on(pareto_front([0.3, 0.2, 0.1], [0.4, 0.4, 0.9])) == [1, 2]
    assert on(pareto_front([0.1, 0.3, 0.1, 0.3, 0.5, 0.5], [0.8, 0.2, 0.8, 0.2, 0.9, 0.9])) == [0, 1, 2, 3]


def test_nan_infinite_and_ineligible_points_are_never_on_it_and_hide_nothing():
    assert on(pareto_front([0.2, NAN, 0.1, 0.05, -math.inf, 0.3], [0.5, 0.0, NAN, math.inf, 0.1, 0.4])) == [0, 5]
    assert on(pareto_front([0.01, 0.2, 0.3], [0.01, 0.5, 0.4], [False, True, True])) == [1, 2]
    assert pareto_front([], []) == []


def test_front_equals_the_definition_on_random_points():
    rng = random.Random(5)
    for _ in range(200):
        n = rng.randint(1, 30)
        e = [rng.randint(0, 5) / 10 for _ in range(n)]
        d = [NAN if rng.random() < 0.1 else rng.randint(0, 5) / 10 for _ in range(n)]
        want = [not math.isnan(d[i]) and not any(
            j != i and not math.isnan(d[j]) and e[j] <= e[i] and d[j] <= d[i] and (e[j] < e[i] or d[j] < d[i])
            for j in range(n)) for i in range(n)]
        assert pareto_front(e, d) == want


def test_front_steps_draw_a_staircase_through_the_front():
    assert front_steps([(0.5, 0.1), (0.1, 0.3), (0.3, 0.2), (0.3, 0.2)]) == (
        [0.1, 0.3, 0.3, 0.5, 0.5], [0.3, 0.3, 0.2, 0.2, 0.1])


def draw(path, out):
    """pareto_figure on the archive; returns (its Figure record, the study front, the axes as drawn)."""
    archive = Archive(path)
    sections = build_sections(archive, None)
    canvas = Canvas(archive, out, 60, 0)
    drawn = {}
    save = canvas.save

    def keep_axes(fig, *args):
        ax = fig.axes[0]
        drawn.update(xlabel=ax.get_xlabel(), ylabel=ax.get_ylabel(), points=sum(len(c.get_offsets()) for c in ax.collections))
        save(fig, *args)

    canvas.save = keep_axes
    front = pareto_figure(canvas, sections)
    return canvas.figure("pareto_front.png"), front, drawn, archive, sections


def test_figure_shows_every_complete_run_by_section_and_the_fronts(full_archive, tmp_path):
    fig, front, drawn, archive, sections = draw(full_archive, str(tmp_path))
    assert fig is not None
    assert_png(os.path.join(str(tmp_path), "pareto_front.png"), min_bytes=5000)
    # Axes with their units, a legend naming every section that has complete runs and both fronts.
    assert "latent density" in drawn["xlabel"] and "lower = sparser" in drawn["xlabel"]
    assert "test MSE" in drawn["ylabel"] and "[0, 1]" in drawn["ylabel"]
    with_complete = [s for s in sections if any(r.state == 1 for r in s.runs)]
    assert [t.split(" (")[0] for t in fig.legend[:-2]] == [s.title for s in with_complete]
    assert fig.legend[-2:] == ["Pareto front, all sections", "Pareto front of a section"]
    # Every complete run once per section listing it, plus a ring round each run of the study's front.
    memberships = sum(1 for s in sections for r in s.runs if r.state == 1)
    assert drawn["points"] == memberships + len(front)
    # The front against the definition, over the complete runs (diverged 4, failed 10, pending 16 left out).
    runs = [r for r in archive.runs if r.state == 1]
    want = [r.index for r in runs if not any(
        o.metric("test_mse") <= r.metric("test_mse") and o.metric("latent_density") <= r.metric("latent_density") and
        (o.metric("test_mse") < r.metric("test_mse") or o.metric("latent_density") < r.metric("latent_density"))
        for o in runs)]
    assert front == want and front
    assert "runs " + ", ".join(f"{i:06d}" for i in front) in fig.caption
    assert "Left out (diverged or failed, or a NaN metric): 000004, 000010." in fig.caption
    assert "Fronts per section — 'l1_encoder': " in fig.caption
    assert fig.group == "Across sections"


def test_figure_in_the_report_and_skipped_without_complete_runs(full_report, tmp_path):
    canvas, out = full_report
    check_report(out, ["pareto_front.png"], words=["Reconstruction error against sparsity"])
    path = str(tmp_path / "none.h5")
    runs, secs = plan([("a", {"reg.l1_activity": [0.0, 1e-4]}), ("b", {"reg.dropout": [0.0, 0.2]})],
                      {"model.hidden": 16})
    for run, state in zip(runs, (2, 3, 0)):  # diverged, failed, pending: nothing complete
        run["state"] = state
    build_archive(path, runs, secs, n_test=20, analysis=False)
    fig, front, _, _, _ = draw(path, str(tmp_path / "out"))
    assert fig is None and front is None


def test_stored_marks_are_read_only_from_a_finished_format_3_archive(full_archive, tmp_path):
    path = str(tmp_path / "marked.h5")
    shutil.copyfile(full_archive, path)
    archive = Archive(path)
    assert stored_front(archive) is None  # no pareto_front column (a format 2 archive)
    archive.close()
    with h5py.File(path, "r+") as f:
        s = f["summary"][:]
        names = list(s.dtype.names)
        dtype = np.dtype([(n, s.dtype[n]) for n in names] + [("pareto_front", np.uint8)])
        marked = np.zeros(len(s), dtype=dtype)
        for n in names:
            marked[n] = s[n]
        marked["pareto_front"][[1, 7]] = 1
        del f["summary"]
        f.create_dataset("summary", data=marked)
    archive = Archive(path)
    assert stored_front(archive) is None  # run 16 is pending: not finished, the marks mean nothing yet
    archive.close()
    with h5py.File(path, "r+") as f:
        f["runs_state"][16] = 1
    assert stored_front(Archive(path)) == [1, 7]

