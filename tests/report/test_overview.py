"""The study overview panels (overview.py) as drawn: ticks, x positions and markers of every run."""
from helpers import record_axes, render
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
