"""pytest set-up for the report tests: the report package (analysis/aesweep_report) and the
synthetic archive builder on sys.path, the e2e marker, and the archives several tests share."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "analysis"))
sys.path.insert(0, HERE)

import studies  # noqa: E402
from helpers import render  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: renders the report from an archive written by the C++ sweep and "
                                       "analysis (needs AESWEEP_BUILD_DIR's aesweep and aesweep-analyze)")


@pytest.fixture(scope="session")
def full_archive(tmp_path_factory):
    """Format 2, with analysis: pending, failed and diverged runs, a run shared by two sections,
    an all-zero-latent run (t-SNE NaN reason), two-key grids, a single-run section, .partial1
    analysis groups."""
    path = str(tmp_path_factory.mktemp("full") / "full.h5")
    studies.build_full(path)
    return path


@pytest.fixture(scope="session")
def full_report(full_archive, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("full-report"))
    return render(full_archive, out, "--dpi", "90"), out
