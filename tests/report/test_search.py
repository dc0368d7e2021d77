"""Search sections ([search.NAME]: random or Sobol points, /sections/NNN@method): their runs share no
values, so per-run figures use all of them along the x key, not the grid's baseline series."""
import re

from aesweep_report.archive import Archive
from aesweep_report.sections import build_sections
import studies
from helpers import check_report, render
from synthetic import build_archive, search_study

DISTRIBUTIONS = {"reg.l1_activity": (1e-6, 1e-3, "loguniform"), "reg.dropout": (0.0, 0.5, "uniform")}


def build_search(path, n=9, **kw):
    runs, section = search_study("pen", DISTRIBUTIONS, n, base={"model.hidden": 16})
    build_archive(path, runs, [section], n_test=40, n_recon=10, **kw)
    return runs


def caption_runs(caption):
    return sorted(int(i) for i in re.findall(r"run (\d{6})", caption))


def test_search_section_method_is_read_and_grids_have_none(tmp_path):
    path = str(tmp_path / "search.h5")
    build_search(path, analysis=False)
    archive = Archive(path)
    assert [(s.name, s.method) for s in archive.section_specs] == [("pen", "random")]
    sec = build_sections(archive)[0]
    assert sec.search and sec.xkey in DISTRIBUTIONS
    grid = str(tmp_path / "grid.h5")
    studies.build_two_sections(grid, n_test=20, analysis=False)
    assert [s.method for s in Archive(grid).section_specs] == ["", ""]
    assert not any(s.search for s in build_sections(Archive(grid)))


def test_no_grid_heatmap_for_a_search_section(tmp_path):
    """Before: a 9 x 9 'paper 004-style table' with 9 filled cells of 81 for 9 random points."""
    path = str(tmp_path / "search.h5")
    build_search(path, analysis=False)
    out = str(tmp_path / "report")
    canvas = render(path, out, "--dpi", "40")
    check_report(out, ["mse_vs_lambda.png", "weights_pen.png"], ["grid_pen.png"])
    assert canvas.figure("grid_pen.png") is None


def test_search_per_run_figures_use_every_run_along_x(tmp_path):
    """Before: primary_series kept only the run(s) whose other key was at its smallest value (one run
    of 9) and pick_runs only the baseline and one other."""
    path = str(tmp_path / "search.h5")
    runs = build_search(path)
    canvas = render(path, str(tmp_path / "report"), "--dpi", "40")
    sec = build_sections(canvas.archive)[0]
    assert sec.xkey == "reg.l1_activity"
    assert caption_runs(canvas.figure("loss_curves_pen.png").caption) == list(range(9))
    assert caption_runs(canvas.figure("kmeans_pen.png").caption) == list(range(9))
    assert len(caption_runs(canvas.figure("cosine_hist_pen.png").caption)) == 6   # thinned to 6 panels
    l1 = [r["settings"]["reg.l1_activity"] for r in runs]
    dropout = [r["settings"]["reg.dropout"] for r in runs]
    want = {l1.index(min(l1)), l1.index(max(l1)), dropout.index(max(dropout))}
    assert len(want) == 3
    for kind in ("weights", "recon", "tsne", "cosine_classes"):
        assert set(caption_runs(canvas.figure(f"{kind}_pen.png").caption)) == want, kind
    # Along x: the loss curves are listed in order of the x value.
    listed = caption_runs(canvas.figure("loss_curves_pen.png").caption)
    order = [int(i) for i in re.findall(r"run (\d{6})", canvas.figure("loss_curves_pen.png").caption)]
    assert [l1[i] for i in order] == sorted(l1) and sorted(order) == listed
