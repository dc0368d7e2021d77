"""The report on synthetic archives covering every partial and degenerate case, and its errors."""
import os
import resource
import signal
import subprocess

import h5py
import numpy as np
import pytest

import studies
from helpers import PYTHON, REPORT, assert_png, check_report, render, run_cli
from synthetic import build_archive

OVERVIEW = ["mse_vs_lambda.png", "density_vs_lambda.png", "cosine_vs_lambda.png", "knn_silhouette_vs_lambda.png"]
PER_SECTION = ["weights", "recon", "loss_curves", "cosine_hist", "kmeans", "tsne", "cosine_classes"]


def test_full_archive_every_figure(full_report):
    canvas, out = full_report
    expected = OVERVIEW + [f"{kind}_{s}.png" for s in studies.FULL_SECTIONS for kind in PER_SECTION]
    expected += ["grid_l1_encoder.png", "grid_activations.png"]
    html = check_report(out, expected, ["grid_dropout.png", "grid_single.png", "grid_l1_both.png"],
                        ["pending", "diverged", "failed", "000016", "000010", "000004", "all points are identical",
                         "Summary table", "L1 activity λ", "out of memory", "config test.ini line"])
    assert sorted(f.name for f in canvas.figures) == sorted(x for x in os.listdir(out) if x.endswith(".png"))
    assert "t-SNE not computed — all points are identical" in html and "run 000012" in html
    assert html.count("<tr class='pending'>") == 1
    assert html.count("<tr class='failed'>") == 1 and html.count("<tr class='diverged'>") == 1


def test_full_archive_captions_name_runs_and_values(full_report):
    canvas, _ = full_report
    weights = canvas.figure("weights_l1_encoder.png").caption
    assert "run 000000 (L1 activity λ = 0, L1 kernel λ (W1) = 0)" in weights
    single = canvas.figure("weights_single.png").caption
    assert "run 000017 (contractive λ = 0.01)" in single
    grid = canvas.figure("grid_activations.png")
    assert grid.title.startswith("encoder activation × hidden units")   # the archive's axis order
    mse = canvas.figure("mse_vs_lambda.png").caption
    assert "diverged (red ×, their values not drawn): 000004" in mse


def test_newest_complete_analysis_group_wins(full_report):
    canvas, _ = full_report
    run1 = canvas.archive.by_index[1]
    assert run1.analysis is not None and run1.analysis["silhouette"] != -0.5   # .partial1, not the older group
    assert canvas.archive.by_index[3].analysis["complete"] == 1               # interrupted group skipped


def test_without_analysis_and_partly_finished(tmp_path):
    path = str(tmp_path / "noanalysis.h5")
    studies.build_full(path, analysis=False, seed=1, states={i: 0 for i in (3, 4, 5, 6, 7, 8)})
    out = str(tmp_path / "report")
    render(path, out, "--dpi", "60")
    check_report(out, ["mse_vs_lambda.png", "density_vs_lambda.png", "weights_l1_encoder.png",
                       "recon_l1_encoder.png", "loss_curves_l1_encoder.png", "weights_single.png"],
                 ["cosine_vs_lambda.png", "knn_silhouette_vs_lambda.png", "tsne_l1_encoder.png",
                  "cosine_hist_l1_encoder.png", "kmeans_l1_encoder.png", "cosine_classes_l1_encoder.png"],
                 ["no /analysis group",
                  "7 pending run(s) skipped: 000003, 000004, 000005, 000006, 000007, 000008, 000016"])


@pytest.fixture(scope="module")
def nonsquare(tmp_path_factory):
    """Format 1: input size 400 (20 x 20 tiles), hidden sizes that are not squares, a one-run section."""
    path = str(tmp_path_factory.mktemp("nonsquare") / "nonsquare.h5")
    runs = [{"section": "hidden", "settings": {"model.hidden": 50.0}},
            {"section": "hidden", "settings": {"model.hidden": 30.0}},
            {"section": "one", "settings": {"model.hidden": 50.0, "reg.l1_activity": 1e-5}}]
    build_archive(path, runs, version=1, config="[sweep.hidden]\nmodel.hidden = 50, 30\n", input_size=400,
                  n_test=100, seed=2)
    return path


def test_nonsquare_inputs_and_hidden_sizes(nonsquare, tmp_path):
    out = str(tmp_path / "report")
    canvas = render(nonsquare, out, "--analysis", "00aa11bb22cc33dd", "--dpi", "60")
    check_report(out, ["mse_vs_lambda.png", "weights_hidden.png", "recon_hidden.png", "tsne_hidden.png",
                       "weights_one.png", "recon_one.png", "kmeans_one.png"])
    assert "as 20×20 input-pixel tiles" in canvas.figure("weights_hidden.png").caption
    assert "50 units as 7×8 padded with grey" in canvas.figure("recon_hidden.png").caption


def test_runs_option_selects_runs(nonsquare, tmp_path):
    out = str(tmp_path / "report")
    render(nonsquare, out, "--runs", "0,2,7", "--dpi", "50")
    html = check_report(out, ["weights_hidden.png", "weights_one.png"],
                        words=["--runs names runs the archive does not have: 7"])
    assert "000001" not in html


def test_runs_option_selecting_no_run_is_an_error(nonsquare, tmp_path):
    """Before: exit 0, 'wrote 0 figures'. Now one line naming the runs the archive has, exit 2."""
    p = run_cli(nonsquare, "-o", str(tmp_path / "out"), "--runs", "99")
    assert_error(p, nonsquare, "--runs selects no run of the archive (it has runs 0-2)")
    assert len(p.stderr.strip().splitlines()) == 1 and p.stdout == ""


def test_section_of_one_run_and_stale_figures_of_an_earlier_report(nonsquare, tmp_path):
    """'1 run', not '1 runs'; a PNG an earlier report left in OUTDIR is kept (never deleted) but not listed."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "grid_old.png").write_bytes(b"an earlier report's figure")
    render(nonsquare, str(out), "--dpi", "40")
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "one (1 run; swept:" in html and "1 runs" not in html
    assert (out / "grid_old.png").exists() and "grid_old.png" not in html


def test_nothing_finished(tmp_path):
    path = str(tmp_path / "pending.h5")
    runs = [{"section": "s", "settings": {"reg.dropout": 0.1}, "state": 0},
            {"section": "s", "settings": {"reg.dropout": 0.2}, "state": 0}]
    build_archive(path, runs, version=1, n_test=50, seed=3)
    out = str(tmp_path / "report")
    canvas = render(path, out)
    check_report(out, [], ["mse_vs_lambda.png"], ["pending", "No finished run"])
    assert canvas.figures == []


# -- errors, through the command as scripts run it


def assert_error(p, *words):
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stderr.startswith("report.py: error: "), p.stderr
    assert "Traceback" not in p.stderr
    for w in words:
        assert w in p.stderr, (w, p.stderr)


def test_error_not_hdf5(tmp_path):
    bad = tmp_path / "not-an-archive.h5"
    bad.write_text("this is not HDF5\n")
    assert_error(run_cli(str(bad), "-o", str(tmp_path / "out")), str(bad), "not an HDF5 file")


def test_error_missing_file_and_directory(tmp_path):
    assert_error(run_cli(str(tmp_path / "missing.h5"), "-o", str(tmp_path / "out")), "missing.h5", "no such file")
    assert_error(run_cli(str(tmp_path), "-o", str(tmp_path / "out")), "is a directory")


def test_error_hdf5_but_not_an_archive(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("x", data=np.arange(3))
    assert_error(run_cli(str(other), "-o", str(tmp_path / "out")), str(other), "not an aesweep sweep archive")


def test_error_newer_format(tmp_path):
    path = str(tmp_path / "v4.h5")
    studies.build_two_sections(path, n_test=20, analysis=False)
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = np.int64(4)
    assert_error(run_cli(path, "-o", str(tmp_path / "out")), "format version 4 is newer than this report (3)")


def test_error_analysis_file_of_another_archive(tmp_path):
    """--analysis-file must hold results of this very archive (aesweep-analyze records its source's
    archive_id in /analysis@source_archive_id); another archive's results are refused, not drawn."""
    mine, other = str(tmp_path / "mine.h5"), str(tmp_path / "other.h5")
    studies.build_two_sections(mine, n_test=20, analysis=False)
    studies.build_two_sections(other, n_test=20, analysis=True)
    with h5py.File(mine, "r+") as f:
        f.attrs["archive_id"] = np.bytes_("a" * 32)
    with h5py.File(other, "r+") as f:
        f.attrs["archive_id"] = np.bytes_("b" * 32)
        f["analysis"].attrs["source_archive_id"] = np.bytes_("b" * 32)
    assert_error(run_cli(mine, "-o", str(tmp_path / "out"), "--analysis-file", other),
                 "computed from another archive", "b" * 32, "a" * 32)
    # The same results recorded as this archive's are used.
    with h5py.File(other, "r+") as f:
        f["analysis"].attrs["source_archive_id"] = np.bytes_("a" * 32)
    p = run_cli(mine, "-o", str(tmp_path / "out2"), "--analysis-file", other)
    assert p.returncode == 0, p.stderr
    assert_error(run_cli(mine, "-o", str(tmp_path / "out3"), "--analysis-file", str(tmp_path / "none.h5")),
                 "does not exist")


def test_error_analysis_file_damaged_or_without_analysis_is_named(tmp_path):
    """Before: a truncated FILE was reported as 'ARCHIVE cannot be read: it is damaged', and a FILE
    without /analysis was silently ignored (exit 0, note 'The archive has no /analysis group')."""
    mine, results = str(tmp_path / "mine.h5"), str(tmp_path / "results.h5")
    studies.build_two_sections(mine, n_test=20, analysis=False)
    studies.build_two_sections(results, n_test=20, analysis=True)
    with open(results, "rb") as fh:
        data = fh.read()
    for size in (1000, len(data) // 2):
        cut = tmp_path / f"cut{size}.h5"
        cut.write_bytes(data[:size])
        p = run_cli(mine, "-o", str(tmp_path / "out"), "--analysis-file", str(cut))
        assert_error(p, f"{cut}: --analysis-file cannot be read: it is damaged")
        assert mine not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = run_cli(mine, "-o", str(tmp_path / "out"), "--analysis-file", mine)   # valid HDF5, no /analysis
    assert_error(p, f"{mine}: --analysis-file has no /analysis group")
    assert len(p.stderr.strip().splitlines()) == 1 and p.stdout == ""


def test_error_unknown_analysis_and_section(nonsquare, tmp_path):
    assert_error(run_cli(nonsquare, "-o", str(tmp_path / "out"), "--analysis", "ffffffffffffffff"),
                 "ffffffffffffffff", "available: 00aa11bb22cc33dd")
    assert_error(run_cli(nonsquare, "-o", str(tmp_path / "out"), "--sections", "hidden,nope"),
                 "no section named nope", "sections: hidden, one")


def test_error_output_directory_cannot_be_created(nonsquare, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_error(run_cli(nonsquare, "-o", str(blocker / "sub")), "cannot create the output directory")


def test_bad_options_are_refused(nonsquare, tmp_path):
    for opts in (["--dpi", "5"], ["--units", "-1"], ["--runs", "3-1"], ["--runs", "x"]):
        p = run_cli(nonsquare, "-o", str(tmp_path / "out"), *opts)
        assert p.returncode == 2 and "Traceback" not in p.stderr, (opts, p.stderr)
    assert not os.path.exists(tmp_path / "out")


def test_help_explains_every_option():
    p = run_cli("--help")
    assert p.returncode == 0
    for opt in ("-o", "--analysis", "--runs", "--dpi", "--analysis-file", "--sections", "--units"):
        assert opt in p.stdout


def test_command_writes_the_report(nonsquare, tmp_path):
    out = str(tmp_path / "out")
    p = run_cli(nonsquare, "-o", out, "--dpi", "40", "--sections", "one")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("report.py: wrote ") and "index.html" in p.stdout
    html = check_report(out, ["weights_one.png"], ["weights_hidden.png"])
    assert "<td>000002</td>" in html and "<td>000000</td>" not in html


def test_error_a_file_that_cannot_be_written_is_named_and_nothing_is_cut_short(full_archive, tmp_path):
    """A full disk or quota while the figures are written: the file is named, exit 2, and no
    figure is left cut short (each is written to a temporary name, then renamed). The child's
    file-size limit (16 KB; SIGXFSZ ignored, so writes past it fail with EFBIG) stands for the
    full disk."""
    import matplotlib.font_manager  # noqa: F401  (builds matplotlib's font cache here, not in the limited child)
    out = tmp_path / "out"

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, resource.RLIM_INFINITY))

    p = subprocess.run([PYTHON, REPORT, full_archive, "-o", str(out), "--dpi", "90"], capture_output=True,
                       text=True, timeout=600, preexec_fn=limit)
    assert_error(p, str(out), "cannot write")
    assert "damaged" not in p.stderr
    for name in os.listdir(out):
        assert not name.endswith(".tmp"), name
        if name.endswith(".png"):
            assert_png(str(out / name), min_bytes=100)
