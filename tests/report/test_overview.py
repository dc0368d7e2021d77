"""The study overview panels (overview.py) as drawn: ticks, x positions and markers of every run."""
from helpers import check_report, record_axes, render
from synthetic import build_archive, config_text, plan

OVERVIEW = ["mse_vs_lambda.png", "density_vs_lambda.png", "cosine_vs_lambda.png", "knn_silhouette_vs_lambda.png"]


def build_categorical(path):
    """One section sweeping only a categorical key: encoder.activation = relu, tanh, sigmoid."""
    study = [("act", {"encoder.activation": ["relu", "tanh", "sigmoid"]})]
    runs, sections = plan(study, {"model.hidden": 16})
    build_archive(path, runs, sections, config=config_text(study), n_test=40, n_recon=10)
    return runs


def test_categorical_sweep_gets_one_labelled_tick_per_category(tmp_path, monkeypatch):
    """Before: every category was drawn at x = 0 under one tick labelled 'relu'."""
    path = str(tmp_path / "categ.h5")
    build_categorical(path)
    drawn = record_axes(monkeypatch)
    render(path, str(tmp_path / "report"), "--dpi", "40")
    for name in OVERVIEW:
        (ax,) = drawn[name]
        assert ax["xticks"] == [0.0, 1.0, 2.0], name
        assert ax["xticklabels"] == ["relu", "tanh", "sigmoid"], name
        xs = sorted({x for line in ax["lines"] for x in line["x"]})
        assert xs == [0.0, 1.0, 2.0], name
    # Each category's points sit at its own tick (density has one series: one line per category).
    (ax,) = drawn["density_vs_lambda.png"]
    at = {line["label"]: line["x"] for line in ax["lines"]}
    assert at == {"encoder activation = relu": [0.0], "encoder activation = tanh": [1.0],
                  "encoder activation = sigmoid": [2.0]}


def test_loss_curve_legend_outside_and_tab10_for_a_categorical_series_key(tmp_path, monkeypatch):
    """Before: the legend sat inside the test panel (upper right) over the curves, and adam vs sgd
    were shades of one viridis ramp."""
    import matplotlib.pyplot as plt
    study = [("opt", {"optimizer.name": ["adam", "sgd"], "optimizer.learning_rate": [1e-3, 1e-2]}),
             ("few", {"reg.dropout": [0.1, 0.2]})]
    runs, sections = plan(study, {"model.hidden": 16})
    path = str(tmp_path / "opt.h5")
    build_archive(path, runs, sections, config=config_text(study), n_test=40, n_recon=10)
    drawn = record_axes(monkeypatch)
    render(path, str(tmp_path / "report"), "--dpi", "40")
    tab10 = [plt.get_cmap("tab10")(i) for i in range(10)]
    for name in ("loss_curves_opt.png", "kmeans_opt.png"):
        left, right = drawn[name][:2]
        colours = [tuple(line["colour"]) for line in right["lines"]]
        assert len(colours) == 4 and len(set(colours)) == 4 and all(c in tab10 for c in colours), name
        assert len(right["legend"]) == 4 and right["legend_outside"], name
        assert any("sgd" in t for t in right["legend"]) and any("adam" in t for t in right["legend"]), name
    # Two runs along a numeric key: the legend stays inside, the colours from the ramp.
    right = drawn["loss_curves_few.png"][1]
    assert len(right["legend"]) == 2 and not right["legend_outside"]
    assert not any(tuple(line["colour"]) in tab10 for line in right["lines"])


def test_all_zero_codes_no_meaningless_silhouette_axis_legend_or_repeated_notes(tmp_path, monkeypatch):
    """Every code zero, every silhouette NaN. Before: the k-means silhouette panel had an x axis of
    -0.05..0.05, the kNN/silhouette legend named a silhouette it did not draw, and each t-SNE note
    was on the index page twice ('Section ..., t-SNE: run 000000 ...' and 'Run 000000: t-SNE ...')."""
    study = [("strong", {"reg.l1_activity": [1.0, 10.0]})]
    runs, sections = plan(study, {"model.hidden": 16})
    for r in runs:
        r["zero_latent"] = True
    path = str(tmp_path / "zero.h5")
    build_archive(path, runs, sections, config=config_text(study), n_test=40, n_recon=10)
    drawn = record_axes(monkeypatch)
    out = str(tmp_path / "report")
    canvas = render(path, out, "--dpi", "40")
    sil = drawn["kmeans_strong.png"][0]
    assert sil["title"] == "silhouette of the k-means clustering"
    assert sil["xlim"] == (1.5, 8.5)   # the k values tried, 2..8
    (knn,) = drawn["knn_silhouette_vs_lambda.png"]
    assert knn["legend"] == ["kNN accuracy"]
    caption = canvas.figure("knn_silhouette_vs_lambda.png").caption
    assert "no silhouette (digit labels) point: NaN for every run (every latent code is identical (e.g. an all-zero latent space): no structure to score)" \
        in caption
    html = check_report(out)
    notes = html.split("<h2>Notes</h2>")[1].split("</ul>")[0]
    for i in (0, 1):
        assert notes.count(f"run {i:06d}: t-SNE not computed") + notes.count(f"Run {i:06d}: t-SNE not computed") \
            == 1, notes
