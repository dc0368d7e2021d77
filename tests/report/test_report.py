#!/usr/bin/python3
"""Test of analysis/report.py: builds small synthetic sweep archives with h5py that follow
docs/archive.md (and the /analysis layout of analysis/app/analysis_store.cpp), runs the report on
them in a subprocess and checks the exit status, the PNG files and index.html.

Run: /usr/bin/python3 tests/report/test_report.py            (about 30 s on one core)
     /usr/bin/python3 tests/report/test_report.py --keep DIR (keep the archives and reports in DIR)
Exit status 0 when every check passes. Needs Debian's python3-h5py, -matplotlib and -numpy.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "..", "..", "analysis", "report.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

# Setting keys in option-registry order with their defaults (as `aesweep sweep` writes them).
REGISTRY = [
    ("model.hidden", 196.0), ("model.bias", 1.0), ("model.loss", "mse"), ("encoder.activation", "relu"),
    ("decoder.activation", "sigmoid"), ("reg.l1_activity", 0.0), ("reg.l2_activity", 0.0), ("reg.l1_kernel", 0.0),
    ("reg.l2_kernel", 0.0), ("reg.kernel_scope", "encoder"), ("reg.kl_beta", 0.0), ("reg.kl_rho", 0.05),
    ("reg.contractive", 0.0), ("reg.dropout", 0.0), ("noise.kind", "none"), ("noise.level", 0.0),
    ("optimizer.name", "adam"), ("optimizer.learning_rate", 0.001), ("optimizer.momentum", 0.9),
    ("optimizer.beta1", 0.9), ("optimizer.beta2", 0.999), ("optimizer.rho", 0.9), ("optimizer.epsilon", 1e-7),
    ("optimizer.adagrad_initial", 0.1), ("train.epochs", 5.0), ("train.batch_size", 256.0),
    ("train.validation_split", 0.0), ("train.patience", 0.0), ("train.seed", 1.0),
]
OUTCOME = [("train_mse", "<f8"), ("test_mse", "<f8"), ("train_loss", "<f8"), ("test_loss", "<f8"),
           ("latent_density", "<f8"), ("dead_units", "<i4"), ("mean_activation", "<f8"), ("w1_near_zero", "<f8"),
           ("w2_near_zero", "<f8"), ("epochs_run", "<i4"), ("wall_seconds", "<f8"), ("samples_per_second", "<f8"),
           ("rank", "<i4"), ("host", "S64"), ("error", "S512")]
CURVES = ["train_loss", "train_objective", "test_loss", "validation_loss", "epoch_seconds"]


def canonical(key, value):
    if isinstance(value, str):
        return value
    if key == "model.bias":
        return "true" if value else "false"
    return f"{value:g}"


def fixed_string(s):
    return np.bytes_(s.encode())


def build_archive(path, config_text, runs, input_size=784, n_test=200, n_recon=20, epochs=5, analysis=True,
                  seed=0):
    """runs: list of dicts with keys section, settings (overrides), state (0..3), and optional flags
    zero_latent (all-zero codes, t-SNE NaN reason), analysed (default True), partial_analysis (a forced
    re-analysis stored as .partial1 next to an older complete group)."""
    rng = np.random.default_rng(seed)
    side = int(round(np.sqrt(input_size)))
    labels = np.repeat(np.arange(10), n_test // 10).astype(np.uint8)
    rng.shuffle(labels)
    # Blobs at a digit-dependent position: something image-like for the figures.
    yy, xx = np.mgrid[0:side, 0:side] if side * side == input_size else (None, None)
    test_x = np.zeros((n_test, input_size), np.float32)
    for i, lab in enumerate(labels):
        if yy is not None:
            cy, cx = side * (0.3 + 0.04 * lab), side * (0.7 - 0.04 * lab)
            img = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (side / 6) ** 2))
            test_x[i] = np.clip(img.ravel() + 0.05 * rng.standard_normal(input_size), 0, 1)
        else:
            test_x[i] = rng.random(input_size)
    recon_indices = np.array([np.flatnonzero(labels == d)[k] for d in range(10) for k in range(n_recon // 10)],
                             np.int64)
    recon_originals = test_x[recon_indices]

    with h5py.File(path, "w") as f:
        f.attrs["format_version"] = np.int64(1)
        f.attrs["aesweep_version"] = fixed_string("0.1.0")
        f.attrs["config_text"] = fixed_string(config_text)
        f.attrs["config_hash"] = fixed_string("0123456789abcdef")
        f.attrs["created"] = fixed_string("2024-01-02T03:04:05Z")
        f.attrs["command"] = fixed_string("aesweep sweep test.ini --out test.h5")
        f.attrs["hdf5_version"] = fixed_string("1.10.8")
        f.attrs["n_runs"] = np.int64(len(runs))
        f.attrs["layout"] = fixed_string("aesweep sweep archive; every path is described in docs/archive.md")
        d = f.create_group("dataset")
        d.attrs["name"] = fixed_string("synthetic")
        d.attrs["n_train"] = np.int64(800)
        d.attrs["n_test"] = np.int64(n_test)
        d.attrs["input_size"] = np.int64(input_size)
        d.create_dataset("test_labels", data=labels)
        d.create_dataset("recon_indices", data=recon_indices)
        d.create_dataset("recon_originals", data=recon_originals)

        all_settings = []
        for spec in runs:
            s = dict(REGISTRY)
            s.update(spec.get("settings", {}))
            all_settings.append(s)
        numeric_keys = [k for k, v in REGISTRY if not isinstance(v, str)]
        string_keys = [k for k, v in REGISTRY if isinstance(v, str)]
        sec_len = max(1, max(len(r["section"]) for r in runs))
        dtype = [("index", "<i8"), ("section", f"S{sec_len}"), ("state", "u1")]
        dtype += [(k, "<f8") for k in numeric_keys]
        dtype += [(k, f"S{max(1, max(len(s[k]) for s in all_settings))}") for k in string_keys]
        dtype += OUTCOME
        summary = np.zeros(len(runs), dtype=dtype)
        states = np.zeros(len(runs), np.uint8)
        metric_dtype = [("state", "u1")] + OUTCOME
        runs_group = f.create_group("runs")
        analysis_runs = None
        if analysis:
            ag = f.create_group("analysis")
            h = ag.create_group("00aa11bb22cc33dd")
            h.attrs["options"] = fixed_string("silhouette.sample_size=0\nkmeans.k_min=2\nkmeans.k_max=8\ntsne=on\n")
            h.attrs["source_archive"] = fixed_string(os.path.basename(path))
            h.attrs["created"] = fixed_string("2024-01-02T04:00:00Z")
            ag.attrs["latest"] = fixed_string("00aa11bb22cc33dd")
            analysis_runs = h.create_group("runs")

        for i, (spec, s) in enumerate(zip(runs, all_settings)):
            hidden = int(s["model.hidden"])
            state = spec.get("state", 1)
            g = runs_group.create_group(f"{i:06d}")
            g.attrs["index"] = np.int64(i)
            g.attrs["section"] = fixed_string(spec["section"])
            g.attrs["settings"] = fixed_string("\n".join(f"{k} = {canonical(k, s[k])}" for k, _ in REGISTRY) + "\n")
            for k, _ in REGISTRY:
                g.attrs[k] = fixed_string(s[k]) if isinstance(s[k], str) else np.float64(s[k])
            strength = s["reg.l1_activity"] * 1e4 + s["reg.l1_kernel"] * 1e4 + s["reg.dropout"] + s["reg.l2_kernel"] * 1e4
            if state == 0:  # pending: storage allocated, never written (zeros)
                w1 = np.zeros((input_size, hidden), np.float32)
                latent = np.zeros((n_test, hidden), np.float32)
                rec = np.zeros((n_recon, input_size), np.float32)
                curves = {c: np.zeros(epochs) for c in CURVES}
            elif state in (2, 3):  # diverged / failed: NaN where the run could not fill
                w1 = np.full((input_size, hidden), np.nan, np.float32)
                latent = np.full((n_test, hidden), np.nan, np.float32)
                rec = np.full((n_recon, input_size), np.nan, np.float32)
                curves = {c: np.full(epochs, np.nan) for c in CURVES}
                if state == 2:
                    curves["train_loss"][:2] = [0.1, 5.0]
                    curves["test_loss"][:2] = [0.09, 7.0]
            else:
                w1 = (rng.standard_normal((input_size, hidden)) * 0.05 / (1 + strength)).astype(np.float32)
                centers = rng.random((10, hidden))
                latent = np.maximum(centers[labels] + 0.4 * rng.standard_normal((n_test, hidden)) - 0.3 * strength,
                                    0).astype(np.float32)
                if spec.get("zero_latent"):
                    latent[:] = 0
                rec = np.clip(recon_originals + 0.1 * (1 + strength) * rng.standard_normal(recon_originals.shape),
                              0, 1).astype(np.float32)
                ep = np.arange(1, epochs + 1)
                curves = {"train_loss": 0.05 * (1 + strength) / ep, "train_objective": 0.06 * (1 + strength) / ep,
                          "test_loss": 0.055 * (1 + strength) / ep, "validation_loss": np.full(epochs, np.nan),
                          "epoch_seconds": np.full(epochs, 0.2)}
                if spec.get("early_stop"):
                    for c in CURVES:
                        curves[c][3:] = np.nan
            g.create_dataset("encoder_kernel", data=w1)
            g.create_dataset("encoder_bias", data=np.zeros(hidden, np.float32))
            g.create_dataset("decoder_kernel", data=np.ascontiguousarray(w1.T))
            g.create_dataset("decoder_bias", data=np.zeros(input_size, np.float32))
            g.create_dataset("latent_test", data=latent)
            g.create_dataset("reconstructions", data=rec)
            for c in CURVES:
                g.create_dataset(c, data=np.asarray(curves[c], np.float64))
            m = np.zeros((), dtype=metric_dtype)
            m["state"] = state
            row = summary[i]
            row["index"], row["section"], row["state"] = i, spec["section"].encode(), state
            for k in numeric_keys:
                row[k] = s[k]
            for k in string_keys:
                row[k] = s[k].encode()
            if state == 1:
                finite_lat = latent
                vals = dict(train_mse=0.015 * (1 + strength), test_mse=0.016 * (1 + strength),
                            train_loss=0.015 * (1 + strength), test_loss=0.016 * (1 + strength),
                            latent_density=float((finite_lat > 0).mean()),
                            dead_units=int((finite_lat.max(axis=0) <= 0).sum()),
                            mean_activation=float(finite_lat.mean()), w1_near_zero=0.01, w2_near_zero=0.01,
                            epochs_run=3 if spec.get("early_stop") else epochs, wall_seconds=1.0,
                            samples_per_second=1000.0, rank=0, host=b"testhost", error=b"")
            elif state == 0:
                vals = {k: np.nan for k, t in OUTCOME if t == "<f8"}
                vals.update(dead_units=0, epochs_run=0, rank=-1, host=b"", error=b"")
            else:
                vals = {k: np.nan for k, t in OUTCOME if t == "<f8"}
                vals.update(dead_units=0, epochs_run=2, rank=0, host=b"testhost",
                            error=b"loss became NaN at epoch 2" if state == 2 else b"out of memory")
            if state != 0:
                for k, v in vals.items():
                    m[k] = v
            for k, v in vals.items():
                row[k] = v
            g.create_dataset("metrics", data=m)
            states[i] = state
            if analysis_runs is not None and state in (1, 2) and spec.get("analysed", True):
                write_analysis(analysis_runs, i, latent, labels, spec, rng)
        rs = f.create_dataset("runs_state", data=states)
        rs.attrs["values"] = fixed_string("0 pending, 1 complete, 2 diverged, 3 failed")
        f.create_dataset("summary", data=summary)


def write_analysis(parent, run, latent, labels, spec, rng):
    n = len(labels)
    name = f"{run:06d}"
    if spec.get("partial_analysis"):
        old = parent.create_group(name)  # an older complete result
        old.attrs["run"] = np.int64(run)
        old.attrs["complete"] = np.int64(1)
        old.attrs["silhouette"] = np.float64(-0.5)
        name += ".partial1"
    if spec.get("interrupted_analysis"):
        bad = parent.create_group(name)  # interrupted write: no "complete"
        bad.attrs["run"] = np.int64(run)
        name += ".partial1"
    g = parent.create_group(name)
    zero = bool(spec.get("zero_latent"))
    finite = bool(np.all(np.isfinite(latent)))
    nan = np.float64(np.nan)
    g.attrs["run"] = np.int64(run)
    if zero or not finite:
        g.attrs["silhouette"] = nan
        g.attrs["silhouette_nan_reason"] = fixed_string("non-finite values in the input" if not finite else
                                                        "silhouette needs 2 <= distinct labels")
    else:
        g.attrs["silhouette"] = np.float64(0.05 + 0.1 * rng.random())
        g.attrs["silhouette_nan_reason"] = fixed_string("")
    ks = np.arange(2, 9, dtype=np.int64)
    g.create_dataset("kmeans_k", data=ks)
    g.create_dataset("kmeans_inertia", data=(1000.0 / ks) if finite else np.full(len(ks), np.nan))
    g.create_dataset("kmeans_silhouette", data=np.full(len(ks), np.nan) if (zero or not finite) else
                     0.1 + 0.02 * rng.standard_normal(len(ks)))
    g.create_dataset("kmeans_iterations", data=np.full(len(ks), 10, np.int64))
    if zero or not finite:
        g.create_dataset("tsne_embedding", data=np.zeros((n, 2), np.float32))
        g.attrs["tsne_kl_divergence"] = nan
        g.attrs["tsne_trustworthiness"] = nan
        g.attrs["tsne_iterations"] = np.int64(0)
        g.attrs["tsne_nan_reason"] = fixed_string("all points are identical: the embedding is undefined" if zero
                                                  else "non-finite values in the input")
    else:
        angle = labels * (2 * np.pi / 10)
        emb = np.stack([np.cos(angle), np.sin(angle)], 1) * 10 + rng.standard_normal((n, 2))
        g.create_dataset("tsne_embedding", data=emb.astype(np.float32))
        g.attrs["tsne_kl_divergence"] = np.float64(1.2)
        g.attrs["tsne_trustworthiness"] = np.float64(0.97)
        g.attrs["tsne_iterations"] = np.int64(999)
        g.attrs["tsne_nan_reason"] = fixed_string("")
    bins = 50
    if zero or not finite:
        same = diff = np.zeros(bins, np.int64)
        stats = (0, nan, nan)
    else:
        same = np.histogram(np.clip(rng.normal(0.7, 0.1, 5000), -1, 1), bins=bins, range=(-1, 1))[0].astype(np.int64)
        diff = np.histogram(np.clip(rng.normal(0.5, 0.12, 20000), -1, 1), bins=bins, range=(-1, 1))[0].astype(np.int64)
        stats = (1, 0.7, 0.5)
    for prefix, hist, mean in (("cosine_same", same, stats[1]), ("cosine_different", diff, stats[2])):
        g.attrs[prefix + "_pairs"] = np.int64(hist.sum())
        g.attrs[prefix + "_mean"] = np.float64(mean)
        g.attrs[prefix + "_std"] = np.float64(0.1 if stats[0] else np.nan)
        g.create_dataset(prefix + "_quantiles", data=np.full(5, mean, np.float64))
        g.create_dataset(prefix + "_histogram", data=hist)
    if not (zero or not finite):
        g.create_dataset("cosine_classes", data=np.arange(10, dtype=np.int64))
        cm = 0.5 + 0.05 * rng.random((10, 10))
        cm = (cm + cm.T) / 2
        np.fill_diagonal(cm, 0.7)
        g.create_dataset("cosine_class_mean", data=cm)
    g.attrs["cosine_zero_rows"] = np.int64(n if zero else 0)
    g.attrs["cosine_points_used"] = np.int64(0 if zero else n)
    g.attrs["cosine_nan_reason"] = fixed_string("" if finite and not zero else
                                                ("no point with a nonzero code" if zero else "non-finite values"))
    g.attrs["knn_accuracy"] = np.float64(0.1 if zero else (nan if not finite else 0.9))
    g.attrs["knn_nan_reason"] = fixed_string("" if finite else "non-finite values in the input")
    g.create_dataset("knn_classes", data=np.arange(10, dtype=np.int64))
    g.create_dataset("knn_per_class_accuracy", data=np.full(10, 0.9))
    g.attrs["seconds"] = np.float64(0.5)
    g.attrs["complete"] = np.int64(1)


# --------------------------------------------------------------------------------------------

FULL_CONFIG = """# synthetic study (paper 000 layout)
[model]
hidden = 49
[sweep.l1_encoder]
reg.l1_activity = 0, 5e-5, 1e-4
reg.l1_kernel = 0, 5e-5, 1e-4
[sweep.dropout]
reg.dropout = linspace(0, 0.6, 3)
[sweep.l1_both]
reg.kernel_scope = both
reg.l1_kernel = 0, 1e-4   # comment
[sweep.activations]
encoder.activation = relu, tanh
model.hidden = 25, 64
reg.l2_activity = 1e-5
[sweep.single]
reg.contractive = 0.01
"""


def full_runs(h=49):
    runs = []
    for a in (0.0, 5e-5, 1e-4):
        for k in (0.0, 5e-5, 1e-4):
            spec = {"section": "l1_encoder", "settings": {"model.hidden": h, "reg.l1_activity": a, "reg.l1_kernel": k}}
            if a == 5e-5 and k == 5e-5:
                spec["state"] = 2                # diverged, NaN metrics
            if a == 0 and k == 5e-5:
                spec["partial_analysis"] = True
            if a == 5e-5 and k == 0:
                spec["interrupted_analysis"] = True
            runs.append(spec)
    # dropout 0 is the l1_encoder (0, 0) run, trained once (deduplicated)
    for d in (0.3, 0.6):
        runs.append({"section": "dropout", "settings": {"model.hidden": h, "reg.dropout": d}})
    runs[-1]["state"] = 3                        # failed
    for l1 in (0.0, 1e-4):  # paper 000: L1 kernel on W1 and W2 kills the code, t-SNE has nothing to embed
        runs.append({"section": "l1_both", "settings": {"model.hidden": h, "reg.kernel_scope": "both",
                                                        "reg.l1_kernel": l1}, "early_stop": l1 > 0,
                     "zero_latent": l1 > 0})
    for act in ("relu", "tanh"):
        for hid in (25, 64):
            runs.append({"section": "activations", "settings": {"encoder.activation": act, "model.hidden": hid,
                                                                "reg.l2_activity": 1e-5}})
    runs[-1]["state"] = 0                        # pending
    runs.append({"section": "single", "settings": {"model.hidden": h, "reg.contractive": 0.01}})
    return runs


def check(cond, msg, failures):
    if not cond:
        failures.append(msg)
        print("  FAIL:", msg)


def run_report(archive, out, *extra):
    start = time.time()
    p = subprocess.run([PYTHON, REPORT, archive, "-o", out, *extra], capture_output=True, text=True, timeout=300)
    print(f"  report.py {os.path.basename(archive)} {' '.join(extra)}: exit {p.returncode} in {time.time() - start:.1f} s")
    return p


def check_report(name, out, p, expected, absent, failures, index_words=()):
    check(p.returncode == 0, f"{name}: exit status {p.returncode}; stderr: {p.stderr[-2000:]}", failures)
    index = os.path.join(out, "index.html")
    check(os.path.isfile(index), f"{name}: no index.html", failures)
    check(os.path.isfile(os.path.join(out, "index.md")), f"{name}: no index.md", failures)
    html = open(index, encoding="utf-8").read() if os.path.isfile(index) else ""
    for png in expected:
        path = os.path.join(out, png)
        ok = os.path.isfile(path) and os.path.getsize(path) > 1000
        check(ok, f"{name}: {png} missing or empty", failures)
        if ok:
            with open(path, "rb") as fh:
                check(fh.read(8) == b"\x89PNG\r\n\x1a\n", f"{name}: {png} is not a PNG", failures)
        check(f"src='{png}'" in html, f"{name}: index.html does not show {png}", failures)
    for png in absent:
        check(not os.path.exists(os.path.join(out, png)), f"{name}: {png} should not exist", failures)
    # every PNG written is shown with a caption
    for png in sorted(x for x in os.listdir(out) if x.endswith(".png")) if os.path.isdir(out) else []:
        check(f"src='{png}'" in html and f"<b>{png}</b>" in html, f"{name}: {png} not captioned in index.html", failures)
    for word in index_words:
        check(word in html, f"{name}: index.html does not mention {word!r}", failures)
    return html


def main():
    keep = None
    if len(sys.argv) > 2 and sys.argv[1] == "--keep":
        keep = sys.argv[2]
        os.makedirs(keep, exist_ok=True)
    tmp = keep or tempfile.mkdtemp(prefix="report-test-")
    failures = []
    t0 = time.time()
    try:
        # 1. Partial archive with analysis: pending, failed, diverged runs, a deduplicated run shared by
        #    two sections, an all-zero-latent run (t-SNE NaN reason), a two-key grid, an activation x hidden
        #    grid, a single-run section, analysis groups written as .partial1.
        print("case full: partial archive with analysis")
        a = os.path.join(tmp, "full.h5")
        build_archive(a, FULL_CONFIG, full_runs())
        out = os.path.join(tmp, "full-report")
        p = run_report(a, out)
        secs = ["l1_encoder", "dropout", "l1_both", "activations", "single"]
        expected = ["mse_vs_lambda.png", "density_vs_lambda.png", "cosine_vs_lambda.png", "knn_silhouette_vs_lambda.png"]
        for s in secs:
            expected += [f"weights_{s}.png", f"recon_{s}.png", f"loss_curves_{s}.png", f"cosine_hist_{s}.png",
                         f"kmeans_{s}.png", f"tsne_{s}.png", f"cosine_classes_{s}.png"]
        expected += ["grid_l1_encoder.png", "grid_activations.png"]
        html = check_report("full", out, p, expected, ["grid_dropout.png", "grid_single.png"], failures,
                            index_words=["pending", "diverged", "failed", "000016", "000010", "000004",
                                         "all points are identical", "Summary table", "L1 activity λ",
                                         "out of memory"])
        check("t-SNE not computed — all points are identical" in html and "run 000012" in html,
              "full: the t-SNE note of the all-zero-latent run 000012 is missing", failures)
        check("000000" in html and "also includes run(s) 000000" in html,
              "full: dropout section does not include the shared run 000000", failures)
        check(html.count("<tr class='pending'>") == 1, "full: the pending run is not in the summary table", failures)

        # 2. The same study without /analysis, and with only some runs finished.
        print("case no-analysis: archive without /analysis")
        b = os.path.join(tmp, "noanalysis.h5")
        runs = full_runs()
        for i in (3, 4, 5, 6, 7, 8):
            runs[i]["state"] = 0
        build_archive(b, FULL_CONFIG, runs, analysis=False, seed=1)
        out = os.path.join(tmp, "noanalysis-report")
        p = run_report(b, out, "--dpi", "80")
        expected = ["mse_vs_lambda.png", "density_vs_lambda.png", "weights_l1_encoder.png", "recon_l1_encoder.png",
                    "loss_curves_l1_encoder.png", "weights_single.png"]
        absent = ["cosine_vs_lambda.png", "knn_silhouette_vs_lambda.png", "tsne_l1_encoder.png",
                  "cosine_hist_l1_encoder.png", "kmeans_l1_encoder.png", "cosine_classes_l1_encoder.png"]
        check_report("no-analysis", out, p, expected, absent, failures, index_words=["no /analysis group"])

        # 3. Input size 400 (20x20 tiles), hidden sizes that are not squares, a section with one run,
        #    selecting runs and the analysis by hash.
        print("case non-square: input 400, hidden 50 and 30")
        c = os.path.join(tmp, "nonsquare.h5")
        cfg = "[sweep.hidden]\nmodel.hidden = 50, 30\n[sweep.one]\nreg.l1_activity = 1e-5\nmodel.hidden = 50\n"
        runs = [{"section": "hidden", "settings": {"model.hidden": 50.0}},
                {"section": "hidden", "settings": {"model.hidden": 30.0}},
                {"section": "one", "settings": {"model.hidden": 50.0, "reg.l1_activity": 1e-5}}]
        build_archive(c, cfg, runs, input_size=400, n_test=100, seed=2)
        out = os.path.join(tmp, "nonsquare-report")
        p = run_report(c, out, "--analysis", "00aa11bb22cc33dd", "--dpi", "80")
        expected = ["mse_vs_lambda.png", "weights_hidden.png", "recon_hidden.png", "tsne_hidden.png",
                    "weights_one.png", "recon_one.png", "kmeans_one.png"]
        check_report("non-square", out, p, expected, [], failures)
        out = os.path.join(tmp, "subset-report")
        p = run_report(c, out, "--runs", "0,2", "--dpi", "60")
        html = check_report("subset", out, p, ["weights_hidden.png", "weights_one.png"], [], failures)
        check("000001" not in html, "subset: run 000001 shown although --runs 0,2", failures)

        # 4. Nothing finished yet.
        print("case all-pending")
        e = os.path.join(tmp, "pending.h5")
        build_archive(e, "[sweep.s]\nreg.dropout = 0.1, 0.2\n",
                      [{"section": "s", "settings": {"reg.dropout": 0.1}, "state": 0},
                       {"section": "s", "settings": {"reg.dropout": 0.2}, "state": 0}], n_test=50, seed=3)
        out = os.path.join(tmp, "pending-report")
        p = run_report(e, out)
        check_report("all-pending", out, p, [], ["mse_vs_lambda.png"], failures, index_words=["pending"])

        # 5. Errors: a file that is not HDF5, a missing file, an HDF5 file that is not an archive, a bad hash.
        print("case errors")
        bad = os.path.join(tmp, "not-an-archive.h5")
        with open(bad, "w") as fh:
            fh.write("this is not HDF5\n")
        for path, what in ((bad, "non-HDF5 file"), (os.path.join(tmp, "missing.h5"), "missing file")):
            p = run_report(path, os.path.join(tmp, "err-report"))
            check(p.returncode != 0, f"{what}: exit status 0", failures)
            check(path in p.stderr, f"{what}: message does not name the file: {p.stderr!r}", failures)
            check("Traceback" not in p.stderr, f"{what}: traceback instead of a message", failures)
        other = os.path.join(tmp, "other.h5")
        with h5py.File(other, "w") as f:
            f.create_dataset("x", data=np.arange(3))
        p = run_report(other, os.path.join(tmp, "err-report"))
        check(p.returncode != 0 and other in p.stderr and "not an aesweep sweep archive" in p.stderr,
              f"HDF5 non-archive: exit {p.returncode}, {p.stderr!r}", failures)
        p = run_report(c, os.path.join(tmp, "err-report"), "--analysis", "ffffffffffffffff")
        check(p.returncode != 0 and "ffffffffffffffff" in p.stderr and "Traceback" not in p.stderr,
              f"unknown analysis hash: exit {p.returncode}, {p.stderr!r}", failures)
        p = subprocess.run([PYTHON, REPORT, "--help"], capture_output=True, text=True)
        for opt in ("-o", "--analysis", "--runs", "--dpi", "--analysis-file", "--sections", "--units"):
            check(opt in p.stdout, f"--help does not explain {opt}", failures)
    finally:
        if keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'FAILED' if failures else 'passed'}: {len(failures)} failure(s) in {time.time() - t0:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
