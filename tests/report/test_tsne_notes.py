"""t-SNE figures say which runs had codes whose affinities could not reach the perplexity
(aesweep-analyze's tsne_perplexity_unmatched), on the panel and in the caption."""
import h5py
import numpy as np

import studies
from helpers import render


def set_unmatched(path, counts):
    """tsne_perplexity_unmatched of each run of the archive's latest analysis ({run index: count})."""
    with h5py.File(path, "r+") as f:
        latest = f["analysis"].attrs["latest"]
        latest = latest.decode() if isinstance(latest, bytes) else str(latest)
        runs = f["analysis"][latest]["runs"]
        for index, n in counts.items():
            runs[f"{index:06d}"].attrs["tsne_perplexity_unmatched"] = np.int64(n)


def test_unmatched_codes_are_named_on_the_panel_and_in_the_caption(tmp_path):
    path = str(tmp_path / "study.h5")
    studies.build_two_sections(path)
    set_unmatched(path, {0: 0, 1: 37})
    canvas = render(path, str(tmp_path / "out"), "--dpi", "40")
    fig = canvas.figure("tsne_a.png")
    assert "could not reach the perplexity" in fig.caption
    assert "run 000001: 37" in fig.caption
    assert "run 000000: 0" not in fig.caption
    other = canvas.figure("tsne_b.png")  # runs 0 and 2: none off the perplexity
    assert "perplexity" not in other.caption


def test_archives_analysed_before_the_count_draw_as_before(tmp_path):
    path = str(tmp_path / "study.h5")
    studies.build_two_sections(path)  # no tsne_perplexity_unmatched attribute at all
    canvas = render(path, str(tmp_path / "out"), "--dpi", "40")
    assert "perplexity" not in canvas.figure("tsne_a.png").caption
