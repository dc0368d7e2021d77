"""The studies the tests build archives of."""
from synthetic import build_archive, config_text, plan

FULL_BASE = {"model.hidden": 49}
FULL_STUDY = [
    ("l1_encoder", {"reg.l1_activity": [0.0, 5e-5, 1e-4], "reg.l1_kernel": [0.0, 5e-5, 1e-4]}),
    ("dropout", {"reg.dropout": [0.0, 0.3, 0.6]}),   # dropout 0 is l1_encoder's run 0, trained once
    ("l1_both", {"reg.kernel_scope": ["both"], "reg.l1_kernel": [0.0, 1e-4]}),
    ("activations", {"encoder.activation": ["relu", "tanh"], "model.hidden": [25.0, 64.0],
                     "reg.l2_activity": [1e-5]}),
    ("single", {"reg.contractive": [0.01]}),
]
FULL_SECTIONS = [name for name, _ in FULL_STUDY]


def full_runs():
    runs, sections = plan(FULL_STUDY, FULL_BASE)
    assert len(runs) == 18 and sections[1].runs == [0, 9, 10]
    runs[4]["state"] = 2                 # l1_encoder 5e-5 x 5e-5: diverged, NaN metrics
    runs[1]["partial_analysis"] = True   # l1_encoder 0 x 5e-5: a forced re-analysis as .partial1
    runs[3]["interrupted_analysis"] = True
    runs[10]["state"] = 3                # dropout 0.6: failed
    runs[12].update(early_stop=True, zero_latent=True)  # l1_both 1e-4: the code dies, t-SNE has nothing
    runs[16]["state"] = 0                # activations tanh x 64: pending
    return runs, sections


def build_full(path, version=2, **kw):
    runs, sections = full_runs()
    for i, state in kw.pop("states", {}).items():
        runs[i]["state"] = state
    build_archive(path, runs, sections, version=version, config=config_text(FULL_STUDY, FULL_BASE), **kw)
    return runs, sections


def build_two_sections(path, version=2, config=None, **kw):
    """[sweep.a] reg.l1_activity = 0, 1e-4; [sweep.b] reg.dropout = 0, 0.2: run 0 is in both."""
    study = [("a", {"reg.l1_activity": [0.0, 1e-4]}), ("b", {"reg.dropout": [0.0, 0.2]})]
    runs, sections = plan(study, {"model.hidden": 16})
    assert sections[1].runs == [0, 2]
    build_archive(path, runs, sections, version=version,
                  config=config_text(study) if config is None else config, **kw)
    return runs, sections
