"""Sweep structure from the archive: /sections (format 2) puts a run in every section it belongs
to; format 1 falls back to each run's `section` attribute; no INI text is read."""
import re

import h5py
import numpy as np
import pytest

import studies
from aesweep_report.archive import Archive
from aesweep_report.sections import build_sections
from aesweep_report.util import ReportError
from helpers import check_report, render, run_cli
from synthetic import build_archive


def section(sections, name):
    return next(s for s in sections if s.name == name)


def test_shared_run_appears_in_both_sections_figures(full_report):
    canvas, out = full_report
    shared = "run 000000 (dropout rate = 0)"
    for png in ("loss_curves_dropout.png", "weights_dropout.png", "recon_dropout.png", "cosine_hist_dropout.png",
                "kmeans_dropout.png", "tsne_dropout.png", "cosine_classes_dropout.png"):
        assert shared in canvas.figure(png).caption, png
    for png in ("weights_l1_encoder.png", "loss_curves_l1_encoder.png"):
        assert "run 000000 (L1 activity λ = 0, L1 kernel λ (W1) = 0)" in canvas.figure(png).caption
    for png in ("mse_vs_lambda.png", "density_vs_lambda.png", "cosine_vs_lambda.png"):
        parts = canvas.figure(png).caption.split("Runs per section — ")[1].split(" | ")
        assert any(p.startswith("'dropout': ") and shared in p for p in parts), png
        assert any(p.startswith("'l1_encoder': ") and "run 000000" in p for p in parts), png
    html = check_report(out, words=["also includes run(s) 000000 trained once"])
    assert "<td>000000</td><td>l1_encoder, dropout</td>" in html


def test_sections_come_from_the_archive_not_the_config_text(tmp_path):
    path = str(tmp_path / "two.h5")
    studies.build_two_sections(path, config="[sweep.misleading]\nreg.dropout = 0.5, 0.7\n", analysis=False,
                               n_test=40)
    archive = Archive(path)
    assert [s.name for s in archive.section_specs] == ["a", "b"]
    assert [(s.name, s.keys, s.runs) for s in archive.section_specs] == [
        ("a", ["reg.l1_activity"], [0, 1]), ("b", ["reg.dropout"], [0, 2])]
    assert archive.by_index[0].sections == ["a", "b"] and archive.by_index[2].sections == ["b"]
    sections = build_sections(archive)
    assert [[r.index for r in s.runs] for s in sections] == [[0, 1], [0, 2]]
    assert section(sections, "b").shared == {0} and section(sections, "a").shared == set()
    assert section(sections, "b").xkey == "reg.dropout"
    assert section(sections, "b").origin.startswith("config test.ini line")


def test_sections_option_keeps_the_shared_run(tmp_path):
    path = str(tmp_path / "two.h5")
    studies.build_two_sections(path, analysis=False, n_test=40)
    out = str(tmp_path / "report")
    canvas = render(path, out, "--sections", "b", "--dpi", "40")
    assert "run 000000 (dropout rate = 0); run 000002 (dropout rate = 0.2)" in \
        canvas.figure("loss_curves_b.png").caption
    html = check_report(out, ["weights_b.png"], ["weights_a.png"])
    assert "<td>000000</td>" in html and "<td>000001</td>" not in html


def test_format_1_falls_back_to_each_runs_section(tmp_path):
    path = str(tmp_path / "v1.h5")
    studies.build_full(path, version=1, analysis=False)
    with h5py.File(path, "r") as f:
        assert "sections" not in f and int(f.attrs["format_version"]) == 1
    archive = Archive(path)
    specs = {s.name: s for s in archive.section_specs}
    assert list(specs) == studies.FULL_SECTIONS
    assert specs["dropout"].runs == [9, 10]          # the shared run stays with the section that trained it
    assert specs["l1_encoder"].keys == ["reg.l1_activity", "reg.l1_kernel"]
    assert specs["activations"].keys == ["model.hidden", "encoder.activation"]   # registry order
    assert specs["single"].keys == ["reg.contractive"]   # one run: what sets it apart from the others
    assert not any(s.stored for s in archive.section_specs)
    out = str(tmp_path / "report")
    canvas = render(path, out, "--dpi", "40")
    check_report(out, ["weights_dropout.png", "grid_activations.png"],
                 words=["does not record its sweep sections", "single (1 run; swept: contractive λ)"])
    assert "run 000000" not in canvas.figure("weights_dropout.png").caption


def test_format_2_archive_without_sections_group_falls_back(tmp_path):
    path = str(tmp_path / "v2-plain.h5")
    studies.build_two_sections(path, analysis=False, n_test=40)
    with h5py.File(path, "r+") as f:
        del f["sections"]
    archive = Archive(path)
    assert [(s.name, s.runs) for s in archive.section_specs] == [("a", [0, 1]), ("b", [2])]


def test_study_of_the_defaults_alone(tmp_path):
    """/sections without sections (names empty): the run still shows, under its own label."""
    path = str(tmp_path / "defaults.h5")
    build_archive(path, [{"section": "", "settings": {"model.hidden": 16}}], sections=[], n_test=40, analysis=False)
    with h5py.File(path, "r") as f:
        assert len(f["sections"]) == 0 and f["sections"].attrs["names"] == b""
    archive = Archive(path)
    assert [(s.name, s.runs, s.stored) for s in archive.section_specs] == [("", [0], False)]
    out = str(tmp_path / "report")
    canvas = render(path, out, "--dpi", "40")
    html = check_report(out, ["weights_runs.png", "mse_vs_lambda.png"],
                        words=["(no section) (1 run; swept: nothing)"])
    assert "<td>000000</td><td>—</td>" in html
    assert "does not record its sweep sections" not in html
    assert canvas.figure("weights_runs.png").title == "Encoder weights W1 — section '(no section)'"


def replace_runs(values):
    def damage(f):
        del f["sections/001/runs"]
        f["sections/001"].create_dataset("runs", data=np.array(values))
    return damage


def not_a_group(f):
    del f["sections"]
    f.create_dataset("sections", data=[1])


@pytest.mark.parametrize("damage, words", [
    (lambda f: f["sections/001"].__delitem__("runs"), "/sections/001 is damaged"),
    (lambda f: f["sections/000"].attrs.__delitem__("name"), "/sections/000 is damaged"),
    (replace_runs([0, 7]), "/sections/001/runs is damaged (it must hold run indices in 0..2)"),
    (replace_runs([-1]), "in 0..2"),
    (replace_runs([0.5]), "in 0..2"),
    (not_a_group, "/sections is damaged (not a group"),
])
def test_damaged_sections_are_reported(tmp_path, damage, words):
    path = str(tmp_path / "damaged.h5")
    studies.build_two_sections(path, analysis=False, n_test=40)
    with h5py.File(path, "r+") as f:
        damage(f)
    with pytest.raises(ReportError, match=re.escape(words)):
        Archive(path)
    p = run_cli(path, "-o", str(tmp_path / "out"))
    assert p.returncode == 2 and words in p.stderr and "Traceback" not in p.stderr


def test_column_names_come_from_the_file(tmp_path):
    path = str(tmp_path / "columns.h5")
    studies.build_two_sections(path, n_test=40, extra_outcome={"extra_score": 0.25}, drop_outcome=("dead_units",))
    with h5py.File(path, "r") as f:
        outcome = [n for n in f["runs/000000/metrics"].dtype.names if n != "state"]
        settings = [line.split("=")[0].strip() for line in
                    f["runs/000000"].attrs["settings"].decode().splitlines() if "=" in line]
        summary = f["summary"].dtype.names
    archive = Archive(path)
    assert archive.outcome_columns == outcome and "extra_score" in outcome and "dead_units" not in outcome
    assert archive.setting_order == settings
    assert set(outcome) | set(settings) <= set(summary)
    run = archive.by_index[1]
    assert run.metrics["extra_score"] == 0.25 and "dead_units" not in run.metrics
    assert run.settings["reg.l1_activity"] == 1e-4 and run.settings["encoder.activation"] == "relu"
    out = str(tmp_path / "report")
    render(path, out, "--dpi", "40")
    html = check_report(out, ["mse_vs_lambda.png"])
    assert "<td>000001</td><td>a</td>" in html


def test_runs_read_from_attributes_without_summary(tmp_path):
    path = str(tmp_path / "nosummary.h5")
    studies.build_two_sections(path, n_test=40, analysis=False)
    with_summary = Archive(path)
    with_summary.close()
    with h5py.File(path, "r+") as f:
        del f["summary"]
    without = Archive(path)
    for a, b in zip(with_summary.runs, without.runs):
        assert a.section == b.section and a.settings == b.settings
        assert a.metrics.keys() == b.metrics.keys()
        assert all(a.metrics[k] == b.metrics[k] or (a.metrics[k] != a.metrics[k] and b.metrics[k] != b.metrics[k])
                   for k in a.metrics)
