"""Runs that did not simply complete: stopped by a schedule (state 4) and diverged (state 2), in the
figures, their captions, the notes and the summary table."""
import re

from helpers import check_report, record_axes, render
from synthetic import build_archive, config_text, plan


def build_halving(path):
    """A two-key grid (L1 activity λ x dropout) where a schedule stopped runs 1, 2, 4 and 5 after epoch 2."""
    study = [("pen", {"reg.l1_activity": [0.0, 1e-5, 1e-4], "reg.dropout": [0.0, 0.3]})]
    runs, sections = plan(study, {"model.hidden": 16})
    for i in (1, 2, 4, 5):
        runs[i].update(state=4, rung=2)
    build_archive(path, runs, sections, config=config_text(study), n_test=40, n_recon=10)
    return runs


def table_row(html, index):
    m = re.search(rf"<tr class='(\w+)'><td>{index:06d}</td>(.*?)</tr>", html)
    assert m, index
    return m.group(1), re.findall(r"<td>(.*?)</td>", m.group(2))


def test_stopped_runs_are_named_shown_in_the_table_and_left_out_of_figures_for_the_right_reason(tmp_path,
                                                                                                 monkeypatch):
    """Before: 'state 4' with every metric '—', and captions blaming divergence or calling them unfinished."""
    path = str(tmp_path / "halving.h5")
    build_halving(path)
    drawn = record_axes(monkeypatch)
    out = str(tmp_path / "report")
    canvas = render(path, out, "--dpi", "40")
    html = check_report(out, ["mse_vs_lambda.png", "pareto_front.png", "grid_pen.png"])
    assert "state 4" not in html
    status, cells = table_row(html, 1)
    assert status == "stopped" and cells[2] == "stopped"
    assert cells[3] != "—" and cells[4] != "—" and cells[5] != "—"   # train/test MSE, density at the rung
    assert "4 run(s) stopped by the schedule at an early rung: 000001 (after epoch 2), 000002 (after epoch 2)" in html
    assert "the figures leave them out, since they compare runs trained to the end" in html
    pareto = canvas.figure("pareto_front.png").caption
    assert "diverged or failed" not in pareto
    assert "Left out (stopped by the schedule at an early rung, so not trained to the end): 000001, 000002, " \
           "000004, 000005." in pareto
    grid = canvas.figure("grid_pen.png").caption
    assert "unfinished" not in grid and "stopped by the schedule at an early rung, not drawn: 1, 2, 4, 5" in grid
    assert "stopped by the schedule at an early rung, not drawn: 000001, 000002, 000004, 000005" in \
        canvas.figure("mse_vs_lambda.png").caption
    # Not drawn: the overview shows the complete runs 0 (λ = 0, dropout 0) and 3 (λ = 1e-5, dropout 0.3) only.
    (ax,) = drawn["density_vs_lambda.png"]
    assert sorted(x for line in ax["lines"] for x in line["x"]) == [0.0, 1e-5]
    assert "run 000001" not in canvas.figure("loss_curves_pen.png").caption


def build_diverged(path):
    """'lr': learning rate 1e-3, 1e-2, 100 (run 2 diverged with finite metrics: density 1, kNN, silhouette);
    'act': relu, tanh, sigmoid (sigmoid diverged likewise); 'boom': every run diverged (one with NaN metrics)."""
    study = [("lr", {"optimizer.learning_rate": [1e-3, 1e-2, 100.0]}),
             ("act", {"encoder.activation": ["relu", "tanh", "sigmoid"]}),
             ("boom", {"optimizer.name": ["sgd"], "optimizer.learning_rate": [300.0, 1000.0]})]
    runs, sections = plan(study, {"model.hidden": 16})
    assert [s.runs for s in sections] == [[0, 1, 2], [0, 3, 4], [5, 6]]
    for i in (2, 4, 5):
        runs[i].update(state=2, finite_metrics=True)
    runs[6]["state"] = 2
    build_archive(path, runs, sections, config=config_text(study), n_test=40, n_recon=10)


def points(ax):
    """x of every ordinary point (not a red ×) and of every red × of an overview panel."""
    xs = sorted({x for line in ax["lines"] if line["marker"] != "x" for x in line["x"]})
    crosses = sorted(x for line in ax["lines"] if line["marker"] == "x" and line["colour"] == "red"
                     for x in line["x"])
    return xs, crosses


def test_diverged_runs_are_red_crosses_never_points_on_the_lines(tmp_path, monkeypatch):
    """Before: a diverged run with finite metrics (density 1, kNN, silhouette) was an ordinary point
    joined to the complete runs; without a numeric swept key it had no red × at all."""
    path = str(tmp_path / "diverged.h5")
    build_diverged(path)
    drawn = record_axes(monkeypatch)
    canvas = render(path, str(tmp_path / "report"), "--dpi", "40")
    for name in ("mse_vs_lambda.png", "density_vs_lambda.png", "cosine_vs_lambda.png",
                 "knn_silhouette_vs_lambda.png"):
        lr, act, boom = drawn[name]
        assert lr["title"] == "section 'lr'" and points(lr) == ([1e-3, 1e-2], [100.0]), name
        assert act["xticklabels"] == ["relu", "tanh", "sigmoid"] and points(act) == ([0.0, 1.0], [2.0]), name
        assert points(boom) == ([], [300.0, 1000.0]), name   # a section of diverged runs only: crosses
        assert "diverged" in lr["legend"] and "diverged" in act["legend"], name
        caption = canvas.figure(name).caption
        assert "'act': " in caption and "diverged (red ×, their values not drawn): 000004" in caption, name


def test_per_run_figures_of_diverged_runs_say_so(tmp_path, monkeypatch):
    """Section 'boom' completed nothing: its per-run figures show diverged runs, and say it in titles and captions."""
    path = str(tmp_path / "diverged.h5")
    build_diverged(path)
    drawn = record_axes(monkeypatch)
    canvas = render(path, str(tmp_path / "report"), "--dpi", "40")
    for kind in ("weights", "recon", "tsne", "cosine_classes", "cosine_hist", "kmeans", "loss_curves"):
        fig = canvas.figure(f"{kind}_boom.png")
        assert fig is not None, kind
        assert re.search(r"diverged run 00000[56]", fig.caption), kind   # loss curves: 5's are inf, not drawn
        assert not re.search(r"(?<!diverged )run 00000", fig.caption), kind
    for kind in ("weights", "recon", "tsne", "cosine_classes", "cosine_hist"):
        titles = [ax["title"] for ax in drawn[f"{kind}_boom.png"] if ax["title"].startswith(("run", "diverged"))]
        assert titles and all(t.startswith("diverged run 00000") for t in titles), (kind, titles)
    assert any("(diverged)" in label for label in canvas.figure("kmeans_boom.png").legend)
    # Complete runs keep their plain names.
    assert "run 000000 (learning rate = 0.001)" in canvas.figure("weights_lr.png").caption
    assert "diverged run" not in canvas.figure("weights_lr.png").caption.split("run 000002")[0]
