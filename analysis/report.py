#!/usr/bin/python3
"""Figures and an index page from an aesweep sweep archive (and its aesweep-analyze results).

Usage: /usr/bin/python3 analysis/report.py ARCHIVE.h5 -o OUTDIR [options]

Reproduces every figure type of paper 000 (MSE and latent density against the regularization
strength per scenario, encoder weight tiles, original / latent / normalised latent /
reconstruction rows, same- vs different-digit cosine histograms, t-SNE, silhouette against k)
plus loss curves, class-mean cosine matrices, kNN accuracy and, for two-key grids such as paper
004's activation x hidden size, heatmaps. Writes PNGs, OUTDIR/index.html and OUTDIR/index.md.
Layout of the archive: docs/archive.md; of this report: docs/report.md.

Needs Debian's python3-h5py, python3-matplotlib and python3-numpy (run it with /usr/bin/python3).
"""
import argparse
import html
import math
import os
import re
import sys
import textwrap

import numpy as np

STATE_NAMES = {0: "pending", 1: "complete", 2: "diverged", 3: "failed"}
OUTCOME_COLUMNS = [
    "train_mse", "test_mse", "train_loss", "test_loss", "latent_density", "dead_units", "mean_activation",
    "w1_near_zero", "w2_near_zero", "epochs_run", "wall_seconds", "samples_per_second", "rank", "host", "error",
]
NON_SETTING_COLUMNS = {"index", "section", "state", "settings"} | set(OUTCOME_COLUMNS)
BOOLEAN_KEYS = {"model.bias"}
SETTING_LABELS = {
    "reg.l1_activity": "L1 activity λ",
    "reg.l2_activity": "L2 activity λ",
    "reg.l1_kernel": "L1 kernel λ",
    "reg.l2_kernel": "L2 kernel λ",
    "reg.kernel_scope": "kernel penalty scope",
    "reg.dropout": "dropout rate",
    "reg.kl_beta": "KL sparsity weight β",
    "reg.kl_rho": "KL target activation ρ",
    "reg.contractive": "contractive λ",
    "noise.kind": "input noise kind",
    "noise.level": "input noise level",
    "model.hidden": "hidden units",
    "model.bias": "biases",
    "model.loss": "loss",
    "encoder.activation": "encoder activation",
    "decoder.activation": "decoder activation",
    "optimizer.name": "optimizer",
    "optimizer.learning_rate": "learning rate",
    "optimizer.momentum": "momentum",
    "train.epochs": "epochs",
    "train.batch_size": "batch size",
    "train.seed": "seed",
    "train.validation_split": "validation split",
    "train.patience": "patience",
}
SAME_COLOR, DIFFERENT_COLOR = "tab:blue", "tab:orange"
MAX_LINES = 12


class ReportError(Exception):
    """A problem with the input that ends the report with a message and exit status 2."""


# --------------------------------------------------------------------------------------------
# Small helpers


def text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").rstrip("\x00")
    if isinstance(value, np.ndarray) and value.dtype.kind == "S":
        return text(value.tobytes())
    return str(value)


def is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def finite(value):
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def fmt_number(v, digits=3):
    if v is None:
        return "–"
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.{digits}g}"


def fmt_value(key, value):
    if is_number(value):
        if key in BOOLEAN_KEYS:
            return "true" if float(value) != 0 else "false"
        return fmt_number(value)
    return str(value)


def same_value(a, b):
    if is_number(a) and is_number(b):
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-300
    return a == b


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "section"


def near_square_shape(n):
    """(rows, cols) of an image holding n values: the exact square if n is one, else the most
    square exact factorisation (cols at most 2 rows), else a padded near-square."""
    n = int(n)
    s = math.isqrt(n)
    if s * s == n:
        return s, s
    for rows in range(s, 0, -1):
        if n % rows == 0 and n // rows <= 2 * rows:
            return rows, n // rows
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def padded_square_shape(n):
    """(rows, cols) of a near-square grid for n cells, the last row padded: 196 -> 14x14, 50 -> 7x8."""
    cols = max(1, math.ceil(math.sqrt(int(n))))
    return math.ceil(int(n) / cols), cols


def as_image(vector, shape):
    rows, cols = shape
    out = np.full(rows * cols, np.nan, dtype=np.float64)
    out[: len(vector)] = vector
    return out.reshape(rows, cols)


def parse_run_list(spec):
    out = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if b < a:
                raise argparse.ArgumentTypeError(f"bad run range '{part}'")
            out.update(range(a, b + 1))
        elif part.isdigit():
            out.add(int(part))
        else:
            raise argparse.ArgumentTypeError(f"bad run list '{spec}' (expected e.g. 0,3,5-9)")
    return out


def parse_config_values(value):
    value = value.strip()
    m = re.fullmatch(r"(linspace|logspace)\s*\(\s*([^,]+),\s*([^,]+),\s*([^,)]+)\)", value)
    if m:
        a, b, n = float(m.group(2)), float(m.group(3)), int(float(m.group(4)))
        values = np.linspace(a, b, n)
        if m.group(1) == "logspace":
            values = 10.0 ** values
        return [float(v) for v in values]
    out = []
    for item in value.split(","):
        item = item.strip()
        if item.lower() in ("true", "false"):
            out.append(1.0 if item.lower() == "true" else 0.0)
            continue
        try:
            out.append(float(item))
        except ValueError:
            out.append(item)
    return out


def parse_sweep_sections(config_text):
    """{section name: {key: [values]}} of the [sweep.NAME] sections of a study config."""
    sections, current = {}, None
    for line in config_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"\[(.*)\]", line)
        if m:
            name = m.group(1).strip()
            current = name[len("sweep."):] if name.startswith("sweep.") else None
            if current is not None:
                sections.setdefault(current, {})
            continue
        if current is not None and "=" in line:
            key, value = line.split("=", 1)
            try:
                sections[current][key.strip()] = parse_config_values(value)
            except (ValueError, TypeError):
                pass
    return sections


# --------------------------------------------------------------------------------------------
# Reading the archive


class Run:
    def __init__(self, index, group_name):
        self.index = index
        self.group_name = group_name
        self.section = ""
        self.state = 0
        self.settings = {}
        self.metrics = {}
        self.analysis = None  # dict, or None when not analysed

    @property
    def done(self):
        return self.state in (1, 2)

    @property
    def state_name(self):
        return STATE_NAMES.get(self.state, f"state {self.state}")

    def metric(self, name):
        v = self.metrics.get(name)
        return float(v) if finite(v) else float("nan")

    def a(self, name, default=float("nan")):
        if self.analysis is None:
            return default
        return self.analysis.get(name, default)


class Archive:
    def __init__(self, path, args):
        import h5py

        self.path = path
        if not os.path.exists(path):
            raise ReportError(f"{path}: no such file")
        if os.path.isdir(path):
            raise ReportError(f"{path}: is a directory, not a sweep archive")
        try:
            if not h5py.is_hdf5(path):
                raise ReportError(f"{path}: not an HDF5 file, so not an aesweep sweep archive")
            self.f = h5py.File(path, "r")
        except OSError as e:
            raise ReportError(f"{path}: cannot open as HDF5 ({e})") from None
        f = self.f
        if "runs_state" not in f or "runs" not in f or "format_version" not in f.attrs:
            raise ReportError(f"{path}: HDF5 file but not an aesweep sweep archive (no /runs_state, /runs or "
                              "format_version; see docs/archive.md)")
        version = int(np.asarray(f.attrs["format_version"]).item())
        if version > 1:
            raise ReportError(f"{path}: archive format version {version} is newer than this report (1)")
        self.attrs = {k: (text(v) if isinstance(v, (bytes, np.bytes_)) else v) for k, v in f.attrs.items()}
        self.config_text = text(f.attrs.get("config_text", b""))
        self.config_sections = parse_sweep_sections(self.config_text)
        self.dataset = {}
        if "dataset" in f:
            d = f["dataset"]
            self.dataset = {k: (text(v) if isinstance(v, (bytes, np.bytes_)) else v) for k, v in d.attrs.items()}
        self.labels = np.asarray(f["dataset/test_labels"][:], dtype=np.int64) if "dataset/test_labels" in f else None
        self.recon_indices = (np.asarray(f["dataset/recon_indices"][:], dtype=np.int64)
                              if "dataset/recon_indices" in f else None)
        self.recon_originals = (np.asarray(f["dataset/recon_originals"][:], dtype=np.float64)
                                if "dataset/recon_originals" in f else None)
        self.notes = []
        self._read_runs(args.runs)
        self._read_analysis(args.analysis, args.analysis_file)

    # -- runs

    def _read_runs(self, only):
        f = self.f
        states = np.asarray(f["runs_state"][:], dtype=np.int64)
        names = {}
        for name in f["runs"].keys():
            if name.isdigit():
                names[int(name)] = name
        summary = f["summary"][:] if "summary" in f else None
        fields = summary.dtype.names if summary is not None else ()
        order = self._registry_order(names)
        self.setting_order = order
        runs = []
        for i, state in enumerate(states):
            if only is not None and i not in only:
                continue
            if i not in names:
                self.notes.append(f"run {i:06d} is listed in /runs_state but has no /runs group; skipped")
                continue
            r = Run(i, names[i])
            r.state = int(state)
            g = f["runs"][names[i]]
            row = summary[i] if summary is not None and i < len(summary) else None
            if row is not None and int(row["index"]) == i:
                r.section = text(row["section"])
                for k in fields:
                    if k in NON_SETTING_COLUMNS:
                        continue
                    v = row[k]
                    if isinstance(v, (bytes, np.bytes_)):
                        r.settings[k] = text(v)
                    elif finite(v):
                        r.settings[k] = float(v)
                for k in OUTCOME_COLUMNS:
                    if k in fields:
                        v = row[k]
                        r.metrics[k] = text(v) if isinstance(v, (bytes, np.bytes_)) else v.item()
            else:
                r.section = text(g.attrs.get("section", b""))
                for k, v in g.attrs.items():
                    if k in NON_SETTING_COLUMNS:
                        continue
                    if isinstance(v, (bytes, np.bytes_, str)):
                        r.settings[k] = text(v)
                    elif np.ndim(v) == 0 and finite(v):
                        r.settings[k] = float(v)
                if "metrics" in g and r.done:
                    m = g["metrics"][()]
                    for k in m.dtype.names:
                        v = m[k]
                        r.metrics[k] = text(v) if isinstance(v, (bytes, np.bytes_)) else v.item()
            if not r.done:
                r.metrics = {k: v for k, v in r.metrics.items() if k in ("host", "error")}
            runs.append(r)
        if only is not None:
            missing = sorted(i for i in only if i >= len(states))
            if missing:
                self.notes.append("--runs names runs the archive does not have: " + ", ".join(map(str, missing)))
        self.n_runs = len(states)
        self.runs = runs
        self.by_index = {r.index: r for r in runs}

    def _registry_order(self, names):
        """Setting keys in option-registry order, from a run's `settings` attribute."""
        for name in list(names.values())[:1]:
            s = text(self.f["runs"][name].attrs.get("settings", b""))
            return [line.split("=", 1)[0].strip() for line in s.splitlines() if "=" in line]
        return []

    # -- analysis

    def _read_analysis(self, wanted, analysis_file):
        import h5py

        self.analysis_hash = None
        self.analysis_options = ""
        self.analysis_note = None
        f = self.f
        if analysis_file:
            if not os.path.exists(analysis_file) or not h5py.is_hdf5(analysis_file):
                raise ReportError(f"{analysis_file}: --analysis-file is not an HDF5 file")
            f = h5py.File(analysis_file, "r")
        self.af = f
        if "analysis" not in f or len(f["analysis"].keys()) == 0:
            self.analysis_note = ("The archive has no /analysis group (run aesweep-analyze on it): the silhouette, "
                                  "k-means, t-SNE, cosine and kNN figures are skipped.")
            if wanted:
                raise ReportError(f"{f.filename}: --analysis {wanted} given but the file has no /analysis group")
            return
        root = f["analysis"]
        hashes = [k for k in root.keys() if isinstance(root[k], h5py.Group)]
        if wanted:
            if wanted not in hashes:
                raise ReportError(f"{f.filename}: no analysis '{wanted}'; available: {', '.join(hashes)}")
            chosen = wanted
        else:
            latest = text(root.attrs.get("latest", b""))
            if latest in hashes:
                chosen = latest
            else:
                chosen = max(hashes, key=lambda h: text(root[h].attrs.get("created", b"")))
        self.analysis_hash = chosen
        group = root[chosen]
        self.analysis_options = text(group.attrs.get("options", b""))
        self.analysis_hashes = hashes
        if "runs" not in group:
            self.analysis_note = f"Analysis {chosen} holds no runs: the analysis figures are skipped."
            return
        by_name = {}
        for child in group["runs"].keys():
            m = re.fullmatch(r"(\d+)(?:\.partial(\d+))?", child)
            if not m:
                continue
            g = group["runs"][child]
            if "complete" not in g.attrs:
                continue  # interrupted write
            run, attempt = int(m.group(1)), int(m.group(2) or 0)
            # The newest complete attempt wins (a forced re-analysis writes name.partialN).
            if run not in by_name or attempt > by_name[run][0]:
                by_name[run] = (attempt, child)
        n_done = 0
        for r in self.runs:
            if not r.done or r.index not in by_name:
                continue
            r.analysis = self._read_analysis_run(group["runs"][by_name[r.index][1]])
            n_done += 1
        if n_done == 0:
            self.analysis_note = f"Analysis {chosen} holds no complete result for the runs shown: the analysis figures are skipped."

    @staticmethod
    def _read_analysis_run(g):
        out = {}
        for k, v in g.attrs.items():
            out[k] = text(v) if isinstance(v, (bytes, np.bytes_, str)) else np.asarray(v).item()
        for k in g.keys():
            if k == "tsne_embedding":
                continue
            out[k] = np.asarray(g[k][:])
        out["_group"] = g
        return out

    def tsne_embedding(self, run):
        g = run.analysis.get("_group") if run.analysis else None
        if g is None or "tsne_embedding" not in g:
            return None
        return np.asarray(g["tsne_embedding"][:], dtype=np.float64)

    def run_data(self, run, name):
        g = self.f["runs"][run.group_name]
        if name not in g:
            return None
        return np.asarray(g[name][()])

    def latent_rows(self, run, rows):
        g = self.f["runs"][run.group_name]
        if "latent_test" not in g:
            return None
        ds = g["latent_test"]
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0 or rows.min() < 0 or rows.max() >= ds.shape[0]:
            return None
        uniq, inverse = np.unique(rows, return_inverse=True)
        return np.asarray(ds[uniq.tolist(), :], dtype=np.float64)[inverse]


# --------------------------------------------------------------------------------------------
# Sections: which runs belong to a sweep section and which settings it sweeps


class Section:
    def __init__(self, name):
        self.name = name
        self.runs = []          # members (any state), in study order
        self.shared = set()     # indices of members labelled with another section (deduplicated runs)
        self.varying = []       # setting keys that vary within the section
        self.values = {}        # key -> ordered distinct values
        self.xkey = None        # numeric key for the x axis, or None
        self.file_id = safe_name(name or "runs")
        self.config_keys = []   # keys the [sweep.NAME] config section sets

    @property
    def title(self):
        return self.name or "(no section)"

    def val(self, run, key):
        return run.settings.get(key)

    def rank(self, run, key):
        v = run.settings.get(key)
        for i, u in enumerate(self.values.get(key, [])):
            if same_value(u, v):
                return i
        return len(self.values.get(key, []))

    def sort_key(self, run):
        keys = ([self.xkey] if self.xkey else []) + [k for k in self.varying if k != self.xkey]
        return tuple(self.rank(run, k) for k in reversed(keys)) + (run.index,)

    def numeric(self, key):
        return all(is_number(v) for v in self.values.get(key, []))

    def label(self, key):
        return setting_label(key, self.runs)

    @property
    def shown_keys(self):
        """The swept keys, or for a section that sweeps nothing the keys its config section sets."""
        return self.varying or self.config_keys

    @property
    def series_keys(self):
        """Keys that tell the runs of primary_series apart: the x key and the categorical swept keys."""
        keys = [k for k in self.varying if k == self.xkey or not self.numeric(k)]
        return keys or self.shown_keys

    def describe(self, run, keys=None):
        keys = self.shown_keys if keys is None else keys
        parts = [f"{self.label(k)} = {fmt_value(k, run.settings.get(k))}" for k in keys]
        return ", ".join(parts)

    def run_caption(self, run):
        d = self.describe(run)
        return f"run {run.index:06d}" + (f" ({d})" if d else "")

    def done_runs(self):
        return [r for r in self.runs if r.done]

    def base_value(self, key):
        return self.values[key][0]

    def primary_series(self, runs):
        """Runs along the x key with every other swept key at its first (smallest) value."""
        others = [k for k in self.varying if k != self.xkey and self.numeric(k)]
        out = [r for r in runs if all(self.rank(r, k) == 0 for k in others)]
        if not out:
            out = list(runs)
        return sorted(out, key=self.sort_key)

    def pick_runs(self, limit=4):
        """Runs for per-run figures: the baseline (every swept key at its smallest value), the largest
        value of each numeric swept key with the others at baseline, one run per other value of a
        categorical key; always the first and last when there are no swept keys."""
        runs = [r for r in self.runs if r.state == 1] or [r for r in self.runs if r.state == 2]
        if not runs:
            return []
        order = sorted(runs, key=self.sort_key)
        base = order[0]
        picks = [base]

        def add(r):
            if r is not None and all(p.index != r.index for p in picks):
                picks.append(r)

        numeric_keys = [k for k in self.varying if self.numeric(k)]
        numeric_keys.sort(key=lambda k: k != self.xkey)
        for k in numeric_keys:
            cands = [r for r in runs if all(same_value(r.settings.get(o), base.settings.get(o))
                                            for o in self.varying if o != k)] or runs
            add(max(cands, key=lambda r: (self.rank(r, k), -r.index)))
        for k in [k for k in self.varying if not self.numeric(k)][:1]:
            for v in self.values[k][1:]:
                cands = [r for r in runs if same_value(r.settings.get(k), v)]
                same_rest = [r for r in cands if all(same_value(r.settings.get(o), base.settings.get(o))
                                                     for o in self.varying if o != k)]
                if same_rest or cands:
                    add((same_rest or sorted(cands, key=self.sort_key))[0])
        if len(picks) == 1 and len(order) > 1:
            add(order[-1])
        return sorted(picks[:limit], key=self.sort_key)


def setting_label(key, runs=()):
    label = SETTING_LABELS.get(key, key)
    if key in ("reg.l1_kernel", "reg.l2_kernel"):
        scopes = {r.settings.get("reg.kernel_scope") for r in runs}
        if scopes == {"both"}:
            label += " (W1 and W2)"
        elif scopes == {"encoder"}:
            label += " (W1)"
    return label


def build_sections(archive, wanted_sections=None):
    runs = archive.runs
    labelled = {}
    for r in runs:
        labelled.setdefault(r.section, []).append(r)
    config = archive.config_sections
    order = [s for s in config if s in labelled] + [s for s in labelled if s not in config]
    sections = []
    used_ids = set()
    for name in order:
        own = labelled[name]
        sec = Section(name)
        while sec.file_id in used_ids:
            sec.file_id += "_"
        used_ids.add(sec.file_id)
        keys = sorted({k for r in own for k in r.settings}, key=lambda k: key_position(k, archive, name))
        config_keys = config.get(name, {})
        varying_own = [k for k in keys if not all(same_value(own[0].settings.get(k), r.settings.get(k)) for r in own)]
        swept = set(varying_own) | {k for k, v in config_keys.items() if len(v) > 1}
        fixed = {k: own[0].settings.get(k) for k in keys if k not in swept}
        allowed = {}
        for k in swept:
            vals = list(config_keys.get(k, []))
            vals += [r.settings.get(k) for r in own]
            allowed[k] = vals
        members = list(own)
        for r in runs:
            if r.section == name:
                continue
            if not all(same_value(r.settings.get(k), v) for k, v in fixed.items()):
                continue
            if not all(any(same_value(r.settings.get(k), v) for v in allowed[k]) for k in swept):
                continue
            members.append(r)
            sec.shared.add(r.index)
        members.sort(key=lambda r: r.index)
        sec.runs = members
        sec.config_keys = [k for k in config_keys if k in own[0].settings]
        sec.varying = [k for k in keys if not all(same_value(members[0].settings.get(k), r.settings.get(k))
                                                  for r in members)]
        for k in sec.varying:
            vals = []
            for r in members:
                v = r.settings.get(k)
                if not any(same_value(v, u) for u in vals):
                    vals.append(v)
            if all(is_number(v) for v in vals):
                vals.sort()
            elif k in config_keys:
                cfg = [v for v in config_keys[k]]
                vals.sort(key=lambda v: next((i for i, u in enumerate(cfg) if same_value(u, v)), len(cfg)))
            sec.values[k] = vals
        numeric = [k for k in sec.varying if sec.numeric(k)]
        if numeric:
            sec.xkey = max(numeric, key=lambda k: (len(sec.values[k]), -sec.varying.index(k)))
        if wanted_sections is None or name in wanted_sections:
            sections.append(sec)
    return sections


def key_position(key, archive, section):
    cfg = list(archive.config_sections.get(section, {}).keys())
    if key in cfg:
        return (0, cfg.index(key), key)
    if key in archive.setting_order:
        return (1, archive.setting_order.index(key), key)
    return (2, 0, key)


# --------------------------------------------------------------------------------------------
# Figures


class Report:
    def __init__(self, archive, sections, outdir, dpi, units):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        self.plt = plt
        self.mpl = matplotlib
        plt.rcParams.update({
            "font.size": 10, "axes.titlesize": 10.5, "axes.labelsize": 10, "legend.fontsize": 8.5,
            "xtick.labelsize": 9, "ytick.labelsize": 9, "figure.titlesize": 12, "axes.grid": True,
            "grid.alpha": 0.3, "savefig.facecolor": "white", "figure.facecolor": "white",
        })
        self.archive = archive
        self.sections = sections
        self.outdir = outdir
        self.dpi = dpi
        self.units = units
        self.figures = []   # (group, file, title, caption)
        self.notes = list(archive.notes)
        self.input_shape = None
        size = archive.dataset.get("input_size")
        if size is None and archive.recon_originals is not None:
            size = archive.recon_originals.shape[1]
        if size is not None:
            self.input_shape = near_square_shape(int(size))

    # -- bookkeeping

    def save(self, fig, name, group, title, caption):
        path = os.path.join(self.outdir, name)
        sup = getattr(fig, "_suptitle", None)
        if sup is not None:
            # Wrap a title wider than the figure (about 8 characters per inch at 12 pt).
            width = max(20, int(fig.get_figwidth() * 8))
            sup.set_text(textwrap.fill(sup.get_text(), width))
        fig.savefig(path, dpi=self.dpi)
        self.plt.close(fig)
        self.figures.append((group, name, title, caption))

    def note(self, msg):
        self.notes.append(msg)

    def run_list(self, runs, sec=None):
        return "; ".join(sec.run_caption(r) if sec else f"run {r.index:06d}" for r in runs)

    # -- colours

    def line_groups(self, sec, runs):
        """[(label, colour, runs sorted by x)] one line per combination of the other swept keys."""
        others = [k for k in sec.varying if k != sec.xkey]
        groups = {}
        for r in sorted(runs, key=sec.sort_key):
            key = tuple(sec.rank(r, k) for k in others)
            groups.setdefault(key, []).append(r)
        keys = sorted(groups)
        omitted = False
        if len(keys) > MAX_LINES and len(others) > 1:
            keys = [k for k in keys if all(i == 0 for i in k[1:])]
            omitted = True
        if len(keys) > MAX_LINES:
            step = (len(keys) - 1) / (MAX_LINES - 1)
            keys = sorted({keys[round(i * step)] for i in range(MAX_LINES)})
            omitted = True
        cmap = None
        if len(others) == 1 and sec.numeric(others[0]) and len(keys) > 1:
            cmap = self.plt.get_cmap("viridis")
        out = []
        for i, key in enumerate(keys):
            rs = groups[key]
            label = ", ".join(f"{sec.label(k)} = {fmt_value(k, rs[0].settings.get(k))}" for k in others)
            if cmap is not None:
                colour = cmap(0.05 + 0.8 * i / max(1, len(keys) - 1))
            else:
                colour = self.plt.get_cmap("tab10")(i % 10)
            out.append((label, colour, rs))
        return out, omitted, others

    def scale_x(self, ax, values):
        vals = np.array([v for v in values if finite(v)], dtype=float)
        pos = vals[vals > 0]
        if len(pos) >= 2 and np.all(vals >= 0) and pos.max() / pos.min() >= 100:
            if np.any(vals == 0):
                ax.set_xscale("symlog", linthresh=float(pos.min()))
            else:
                ax.set_xscale("log")
        elif vals.size and 0 < np.abs(vals).max() < 1e-2:
            ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))

    def panel_grid(self, n, width=4.4, height=3.4, ncols_max=3):
        ncols = min(ncols_max, max(1, n))
        nrows = math.ceil(n / ncols)
        fig, axes = self.plt.subplots(nrows, ncols, figsize=(max(5.6, width * ncols), height * nrows + 0.5),
                                      squeeze=False, layout="constrained")
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        return fig, list(axes.flat[:n])

    # -- metric against the swept value, one panel per section

    def metric_figure(self, name, title, ylabel, series, caption_intro, needs_analysis=False, ylim=None,
                      logy=False, group="Across sections"):
        """series: [(label suffix, linestyle, marker, fn(run) -> value)]"""
        panels = []
        for sec in self.sections:
            runs = [r for r in sec.done_runs() if (r.analysis is not None or not needs_analysis)
                    and any(finite(fn(r)) for _, _, _, fn in series)]
            if runs:
                panels.append((sec, runs))
        if not panels:
            return
        fig, axes = self.panel_grid(len(panels))
        caption_parts = []
        for ax, (sec, runs) in zip(axes, panels):
            groups, omitted, others = self.line_groups(sec, runs)
            xs_all = []
            for label, colour, rs in groups:
                if sec.xkey:
                    xs = [float(r.settings.get(sec.xkey)) for r in rs]
                else:
                    xs = list(range(len(rs)))
                xs_all += xs
                for suffix, ls, marker, fn in series:
                    ys = [fn(r) for r in rs]
                    ax.plot(xs, ys, linestyle=ls if sec.xkey else "none", marker=marker, color=colour,
                            markersize=4.5, linewidth=1.6,
                            label=(label if len(series) == 1 else None) if label else suffix)
            diverged = [r for r in sec.done_runs() if r.state == 2 and r not in runs]
            from matplotlib.lines import Line2D
            from matplotlib.transforms import blended_transform_factory
            if sec.xkey:
                ax.set_xlabel(sec.label(sec.xkey))
                if diverged:
                    dx = [float(r.settings.get(sec.xkey)) for r in diverged]
                    xs_all += dx
                    ax.plot(dx, [0.03] * len(dx), linestyle="none", marker="x", color="red", markersize=7,
                            transform=blended_transform_factory(ax.transData, ax.transAxes), clip_on=False)
                self.scale_x(ax, xs_all)
            elif groups:
                rs = groups[0][2]
                ax.set_xticks(range(len(rs)))
                ax.set_xticklabels([wrap(", ".join(fmt_value(k, r.settings.get(k)) for k in sec.shown_keys), 20)
                                    or f"run {r.index}" for r in rs], rotation=30 if len(rs) > 3 else 0,
                                   ha="right" if len(rs) > 3 else "center")
                ax.set_xlabel(wrap(", ".join(sec.label(k) for k in sec.shown_keys), 40) or "run")
                if len(rs) == 1:
                    ax.set_xlim(-1, 1)
            ax.set_ylabel(ylabel)
            if logy:
                ax.set_yscale("log")
            if ylim:
                ax.set_ylim(*ylim)
            ax.set_title(f"section '{sec.title}'")
            handles = []
            if len(series) > 1:
                handles = [Line2D([], [], color="0.2", linestyle=ls, marker=m, label=s) for s, ls, m, _ in series]
            if diverged and sec.xkey:
                handles.append(Line2D([], [], color="red", marker="x", linestyle="none", label="diverged (NaN)"))
            outside = False
            if others and len(groups) > 1:
                if len(groups) > 5 and len(others) == 1 and sec.numeric(others[0]):
                    self.colorbar_for(fig, ax, sec, others[0], [g[2][0] for g in groups])
                else:
                    handles += [Line2D([], [], color=c, marker="o", linestyle="-", label=wrap(l, 26))
                                for l, c, _ in groups]
                    outside = True
            if handles and outside:
                ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5,
                          frameon=False, borderaxespad=0)
            elif handles:
                ax.legend(handles=handles, loc="best", fontsize=8)
            shown = sorted([r for _, _, rs in groups for r in rs], key=sec.sort_key)
            part = f"'{sec.title}': " + self.compact_runs(sec, shown)
            if omitted:
                part += " (further values of " + ", ".join(sec.label(k) for k in others[1:] or others) + " omitted)"
            if diverged:
                part += "; diverged (NaN, red ×): " + ", ".join(f"{r.index:06d}" for r in diverged)
            caption_parts.append(part)
        fig.suptitle(title)
        caption = caption_intro + " Runs per section — " + " | ".join(caption_parts) + "."
        self.save(fig, name, group, title, caption)

    @staticmethod
    def compact_runs(sec, runs):
        """'run 0 (λ = 0), run 1 (λ = 1e-5)' for a few runs, else the run list and the value sets."""
        if len(runs) <= 8 or not sec.shown_keys:
            return ", ".join(sec.run_caption(r) for r in runs)
        values = []
        for k in sec.shown_keys:
            vals = []
            for r in runs:
                v = r.settings.get(k)
                if not any(same_value(v, u) for u in vals):
                    vals.append(v)
            values.append(f"{sec.label(k)} ∈ {{{', '.join(fmt_value(k, v) for v in vals)}}}")
        return "runs " + ", ".join(str(r.index) for r in runs) + " with " + " × ".join(values)

    def colorbar_for(self, fig, ax, sec, key, runs):
        import matplotlib.colors as mcolors

        n = len(runs)
        cmap = self.plt.get_cmap("viridis")
        colours = [cmap(0.05 + 0.8 * i / max(1, n - 1)) for i in range(n)]
        lc = mcolors.ListedColormap(colours)
        norm = mcolors.BoundaryNorm(np.arange(n + 1) - 0.5, n)
        sm = self.mpl.cm.ScalarMappable(norm=norm, cmap=lc)
        cb = fig.colorbar(sm, ax=ax, ticks=range(n), fraction=0.08, pad=0.02)
        cb.ax.set_yticklabels([fmt_value(key, r.settings.get(key)) for r in runs], fontsize=7.5)
        cb.set_label(sec.label(key))

    # -- the figures of the whole study

    def study_figures(self):
        self.metric_figure(
            "mse_vs_lambda.png", "Reconstruction error against the swept hyperparameter", "MSE (mean over pixels)",
            [("test", "-", "o", lambda r: r.metric("test_mse")), ("train", "--", "s", lambda r: r.metric("train_mse"))],
            "Train (dashed) and test (solid) mean squared reconstruction error of every finished run, one panel per "
            "sweep section, x = the hyperparameter the section sweeps (paper 000 fig. 1).")
        self.metric_figure(
            "density_vs_lambda.png", "Latent density against the swept hyperparameter",
            "latent density (fraction nonzero)",
            [("density", "-", "o", lambda r: r.metric("latent_density"))],
            "Latent density = fraction of nonzero entries of the test-set latent codes (paper 000's \"sparsity\"; "
            "lower = sparser), one panel per sweep section (paper 000 figs. 2 and 3).", ylim=(-0.02, 1.02))
        if any(r.analysis is not None for r in self.archive.runs):
            self.metric_figure(
                "cosine_vs_lambda.png", "Mean cosine similarity of latent codes, same vs different digit",
                "mean cosine similarity",
                [("same digit", "-", "o", lambda r: r.a("cosine_same_mean")),
                 ("different digit", "--", "s", lambda r: r.a("cosine_different_mean"))],
                "Mean cosine similarity between test-set latent codes of the same digit (solid) and of different "
                "digits (dashed); all-zero codes are excluded.", needs_analysis=True)
            self.metric_figure(
                "knn_silhouette_vs_lambda.png", "Class structure of the latent space",
                "score",
                [("kNN accuracy", "-", "o", lambda r: r.a("knn_accuracy")),
                 ("silhouette (digit labels)", "--", "s", lambda r: r.a("silhouette"))],
                "Leave-one-out k-nearest-neighbour accuracy of the digit label (solid) and silhouette score of the "
                "latent codes grouped by digit label (dashed), Euclidean distance.", needs_analysis=True)

    # -- per-section figures

    def section_figures(self, sec):
        group = f"Section '{sec.title}'"
        picks = sec.pick_runs()
        if not picks:
            self.note(f"Section '{sec.title}': no finished run, no per-run figures.")
            return
        self.grid_figure(sec, group)
        self.loss_figure(sec, group)
        self.weights_figure(sec, picks, group)
        self.recon_figure(sec, picks, group)
        if self.archive.analysis_hash is not None:
            analysed = [r for r in sec.done_runs() if r.analysis is not None]
            if not analysed:
                self.note(f"Section '{sec.title}': no run analysed with {self.archive.analysis_hash}; "
                          "analysis figures skipped.")
                return
            apicks = [r for r in picks if r.analysis is not None]
            if not apicks:
                apicks = sorted(analysed, key=sec.sort_key)[:3]
            self.cosine_hist_figure(sec, analysed, group)
            self.cosine_class_figure(sec, apicks, group)
            self.tsne_figure(sec, apicks, group)
            self.kmeans_figure(sec, analysed, group)

    def loss_figure(self, sec, group):
        runs = [r for r in sec.primary_series(sec.done_runs())]
        curves = []
        for r in runs:
            tr = self.archive.run_data(r, "train_loss")
            te = self.archive.run_data(r, "test_loss")
            if tr is None or te is None:
                continue
            if np.any(np.isfinite(tr)) or np.any(np.isfinite(te)):
                curves.append((r, np.asarray(tr, float), np.asarray(te, float)))
        if not curves:
            return
        curves = thin(curves, MAX_LINES)
        fig, axes = self.plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained", sharey=True)
        cmap = self.plt.get_cmap("viridis")
        loss_name = {"mse": "MSE", "sum_squares": "sum of squares", "bce": "binary cross-entropy"}
        losses = {r.settings.get("model.loss") for r, _, _ in curves}
        lname = loss_name.get(losses.pop(), "loss") if len(losses) == 1 else "loss"
        positive = True
        for i, (r, tr, te) in enumerate(curves):
            colour = cmap(0.05 + 0.8 * i / max(1, len(curves) - 1)) if len(curves) > 1 else "tab:blue"
            label = sec.describe(r, sec.series_keys) or f"run {r.index:06d}"
            label = f"{r.index}: {label}"
            for ax, c in zip(axes, (tr, te)):
                ep = np.arange(1, len(c) + 1)
                ax.plot(ep, c, marker="o", markersize=3, color=colour, label=label)
                positive &= bool(np.all(c[np.isfinite(c)] > 0))
        for ax, t in zip(axes, ("training set", "test set")):
            ax.set_xlabel("epoch")
            ax.set_title(f"{lname} on the {t}")
            ax.xaxis.get_major_locator().set_params(integer=True)
            if positive:
                ax.set_yscale("log")
        axes[0].set_ylabel(f"{lname} (reconstruction term)")
        axes[1].legend(loc="upper right", fontsize=7.5 if len(curves) > 5 else 8.5)
        title = f"Loss curves — section '{sec.title}'"
        fig.suptitle(title)
        rs = [c[0] for c in curves]
        caption = (f"Per-epoch reconstruction loss (without the penalty) on the training set (left) and test set "
                   f"(right) for section '{sec.title}': {self.run_list(rs, sec)}. Epochs not reached are not drawn.")
        self.save(fig, f"loss_curves_{sec.file_id}.png", group, title, caption)

    def grid_figure(self, sec, group):
        if len(sec.varying) != 2:
            return
        a, b = sec.varying
        if sec.numeric(a) and not sec.numeric(b):
            a, b = b, a
        rows, cols = sec.values[a], sec.values[b]
        if len(rows) < 2 or len(cols) < 2:
            return
        metrics = [("test MSE", "test_mse", "magma_r"), ("latent density", "latent_density", "viridis")]
        nr, nc = len(rows), len(cols)
        cell = 0.52 if max(nr, nc) <= 6 else 0.42
        w = max(3.6, nc * cell + 1.9)
        h = max(2.8, nr * cell + 1.6)
        fig, axes = self.plt.subplots(1, 2, figsize=(2 * w, h), layout="constrained")
        for ax, (label, key, cmap) in zip(axes, metrics):
            m = np.full((nr, nc), np.nan)
            for r in sec.done_runs():
                i, j = sec.rank(r, a), sec.rank(r, b)
                if i < nr and j < nc:
                    m[i, j] = r.metric(key)
            cm = self.plt.get_cmap(cmap).copy()
            cm.set_bad("0.85")
            im = ax.imshow(np.ma.masked_invalid(m), cmap=cm, aspect="auto")
            fin = m[np.isfinite(m)]
            fs = 8 if max(nr, nc) <= 6 else 6
            for i in range(nr):
                for j in range(nc):
                    v = m[i, j]
                    if np.isfinite(v):
                        lo, hi = (fin.min(), fin.max()) if fin.size else (0, 1)
                        t = (v - lo) / (hi - lo) if hi > lo else 0.5
                        dark = t > 0.55 if cmap == "magma_r" else t < 0.45
                        ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=fs,
                                color="white" if dark else "black")
                    else:
                        ax.text(j, i, "—", ha="center", va="center", fontsize=fs, color="0.4")
            ax.set_xticks(range(nc))
            ax.set_xticklabels([fmt_value(b, v) for v in cols], rotation=45 if nc > 5 else 0,
                               ha="right" if nc > 5 else "center")
            ax.set_yticks(range(nr))
            ax.set_yticklabels([fmt_value(a, v) for v in rows])
            ax.set_xlabel(sec.label(b))
            ax.set_ylabel(sec.label(a))
            ax.set_title(label)
            ax.grid(False)
            fig.colorbar(im, ax=ax, shrink=0.9)
        title = f"{sec.label(a)} × {sec.label(b)} — section '{sec.title}'"
        fig.suptitle(title)
        missing = [r.index for r in sec.runs if not r.done]
        caption = (f"Test MSE (left) and latent density (right) of every run of section '{sec.title}' on the "
                   f"{sec.label(a)} × {sec.label(b)} grid (paper 004-style table); grey cells '—' have no "
                   f"finished run or a NaN value" + (f" (unfinished runs: {', '.join(map(str, missing))})" if missing else "")
                   + f". Runs: {', '.join(str(r.index) for r in sorted(sec.runs, key=sec.sort_key))}.")
        self.save(fig, f"grid_{sec.file_id}.png", group, title, caption)

    def unit_count(self, hidden):
        if self.units:
            return min(hidden, self.units)
        return hidden if hidden <= 196 else 100

    def weights_figure(self, sec, picks, group):
        panels = []
        for r in picks:
            w = self.archive.run_data(r, "encoder_kernel")
            if w is None or w.ndim != 2:
                continue
            w = np.asarray(w, dtype=np.float64)
            n_units = self.unit_count(w.shape[1])
            w = w[:, :n_units]
            if not np.any(np.isfinite(w)):
                self.note(f"Run {r.index:06d}: encoder weights are not finite; no weight tiles.")
                continue
            panels.append((r, w))
        if not panels:
            return
        tile = self.input_shape or near_square_shape(panels[0][1].shape[0])
        fig, axes = self.plt.subplots(1, len(panels), figsize=(max(5.6, 4.3 * len(panels)), 5.0), squeeze=False,
                                      layout="constrained")
        shown_units = set()
        for ax, (r, w) in zip(axes[0], panels):
            n_units = w.shape[1]
            shown_units.add((n_units, int(r.settings.get("model.hidden", n_units))))
            gr, gc = padded_square_shape(n_units)
            th, tw = tile
            mosaic = np.full((gr * (th + 1) + 1, gc * (tw + 1) + 1), np.nan)
            for u in range(n_units):
                i, j = divmod(u, gc)
                if w.shape[0] == th * tw:
                    img = w[:, u].reshape(th, tw)
                else:
                    img = as_image(w[:, u], tile)
                mosaic[1 + i * (th + 1): 1 + i * (th + 1) + th, 1 + j * (tw + 1): 1 + j * (tw + 1) + tw] = img
            fin = np.abs(w[np.isfinite(w)])
            lim = float(np.percentile(fin, 99.5)) if fin.size else 1.0
            lim = lim if lim > 0 else 1.0
            cm = self.plt.get_cmap("RdBu_r").copy()
            cm.set_bad("0.55")
            im = ax.imshow(np.ma.masked_invalid(mosaic), cmap=cm, vmin=-lim, vmax=lim, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            desc = sec.describe(r) or "no swept setting"
            ax.set_title(f"run {r.index:06d}\n{wrap(desc, 44)}", fontsize=9.5)
            cb = fig.colorbar(im, ax=ax, orientation="horizontal", fraction=0.05, pad=0.02)
            cb.set_label("weight (W1)", fontsize=9)
            cb.ax.tick_params(labelsize=8)
            ax.set_xlabel(f"fraction of W1 near zero: {fmt_number(r.metric('w1_near_zero'), 3)}", fontsize=8.5)
        title = f"Encoder weights W1 — section '{sec.title}'"
        fig.suptitle(title)
        units_txt = "; ".join(f"first {n} of {h} hidden units" if n < h else f"all {h} hidden units"
                              for n, h in sorted(shown_units))
        caption = (f"Encoder weight matrix W1 of section '{sec.title}' as {tile[0]}×{tile[1]} input-pixel tiles, one per "
                   f"hidden unit ({units_txt}), red positive, blue negative, white zero; one colour scale per run "
                   f"(±99.5th percentile of |W1|). Runs: {self.run_list([p[0] for p in panels], sec)} "
                   f"(paper 000 figs. 4 and 5).")
        self.save(fig, f"weights_{sec.file_id}.png", group, title, caption)

    def recon_figure(self, sec, picks, group):
        arc = self.archive
        if arc.recon_originals is None or arc.recon_indices is None or len(arc.recon_indices) == 0:
            return
        # One column per digit class where possible (the archive keeps several digits per class).
        n_all = min(len(arc.recon_indices), len(arc.recon_originals))
        cols, seen = [], set()
        if arc.labels is not None and arc.recon_indices[:n_all].max() < len(arc.labels):
            for j in range(n_all):
                lab = int(arc.labels[arc.recon_indices[j]])
                if lab not in seen:
                    seen.add(lab)
                    cols.append(j)
        cols = cols[:10]
        for j in range(n_all):
            if len(cols) >= 10:
                break
            if j not in cols:
                cols.append(j)
        cols = sorted(cols, key=lambda j: (int(arc.labels[arc.recon_indices[j]]) if seen else 0, j))
        n_show = len(cols)
        idx = arc.recon_indices[cols]
        originals = arc.recon_originals[cols]
        blocks = []
        for r in picks:
            lat = arc.latent_rows(r, idx)
            rec = arc.run_data(r, "reconstructions")
            if lat is None or rec is None:
                continue
            rec = np.asarray(rec, dtype=np.float64)[cols]
            norms = np.linalg.norm(lat, axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                unit = np.where(norms > 0, lat / np.where(norms > 0, norms, 1), 0.0)
            blocks.append((r, lat, unit, rec))
        if not blocks:
            return
        tile = self.input_shape or near_square_shape(originals.shape[1])
        labels = arc.labels[idx] if arc.labels is not None and idx.max() < len(arc.labels) else None
        nrows = 1 + 3 * len(blocks)
        fig, axes = self.plt.subplots(nrows, 1, figsize=(0.95 * (n_show + 1.6) + 0.3, 0.98 * nrows + 0.3 * len(blocks) + 0.9),
                                      layout="constrained", squeeze=False)
        axes = axes[:, 0]
        pix_max = float(np.nanmax(originals)) if np.isfinite(originals).any() else 1.0
        vmax = 1.0 if pix_max <= 1.0 else pix_max

        def row(ax, images, name, cmap, vmin, vmax_):
            # One axes per row, one image per digit (far faster than one axes per image).
            cm = self.plt.get_cmap(cmap).copy()
            cm.set_bad("0.8")
            for j, img in enumerate(images):
                ax.imshow(np.ma.masked_invalid(img), cmap=cm, vmin=vmin, vmax=vmax_, interpolation="nearest",
                          extent=(j + 0.06, j + 0.94, 0.03, 0.97))
            ax.set_xlim(-1.6, len(images))  # room for the row label inside the axes
            ax.set_ylim(0, 1)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(False)
            ax.text(-0.08, 0.5, name, ha="right", va="center", fontsize=9.5)

        row(axes[0], [as_image(o, tile) for o in originals], "original", "gray", 0.0, vmax)
        if labels is not None:
            axes[0].set_xticks(np.arange(n_show) + 0.5)
            axes[0].set_xticklabels([f"digit {int(l)}" for l in labels], fontsize=9)
            axes[0].xaxis.tick_top()
            axes[0].tick_params(length=0)
        for b, (r, lat, unit, rec) in enumerate(blocks):
            ax3 = axes[1 + 3 * b: 4 + 3 * b]
            lshape = padded_square_shape(lat.shape[1])
            fin = lat[np.isfinite(lat)]
            lo = min(0.0, float(fin.min())) if fin.size else 0.0
            hi = float(fin.max()) if fin.size else 1.0
            hi = hi if hi > lo else lo + 1.0
            row(ax3[0], [as_image(v, lshape) for v in lat], "latent h", "viridis", lo, hi)
            ufin = unit[np.isfinite(unit)]
            ulo = min(0.0, float(ufin.min())) if ufin.size else 0.0
            uhi = float(ufin.max()) if ufin.size and ufin.max() > ulo else ulo + 1.0
            row(ax3[1], [as_image(v, lshape) for v in unit], "h / ‖h‖₂", "viridis", ulo, uhi)
            row(ax3[2], [as_image(v, tile) for v in rec], "reconstruction", "gray", 0.0, vmax)
            desc = sec.describe(r)
            ax3[0].set_title(f"run {r.index:06d}" + (f" — {desc}" if desc else "")
                             + f" — test MSE {fmt_number(r.metric('test_mse'), 3)}, latent density "
                             f"{fmt_number(r.metric('latent_density'), 3)}", fontsize=10, pad=8)
        title = f"Originals, latent codes and reconstructions — section '{sec.title}'"
        fig.suptitle(title, fontsize=11.5)
        hidden = sorted({b[1].shape[1] for b in blocks})
        shapes = ", ".join(f"{h} units as {padded_square_shape(h)[0]}×{padded_square_shape(h)[1]}"
                           + (" padded with grey" if padded_square_shape(h)[0] * padded_square_shape(h)[1] != h else "")
                           for h in hidden)
        caption = (f"Top row: {n_show} test digits (/dataset/recon_originals, test positions "
                   f"{', '.join(map(str, idx.tolist()))}). Then for each run: its latent code h ({shapes}; brighter = "
                   f"larger, one colour scale per run), the L2-normalised code h/‖h‖₂, and the reconstruction. Runs: "
                   f"{self.run_list([b[0] for b in blocks], sec)} (paper 000 fig. 6).")
        self.save(fig, f"recon_{sec.file_id}.png", group, title, caption)

    def cosine_hist_figure(self, sec, analysed, group):
        runs = [r for r in sec.primary_series(analysed)
                if isinstance(r.analysis.get("cosine_same_histogram"), np.ndarray)]
        if not runs:
            return
        runs = thin(runs, 6)
        fig, axes = self.panel_grid(len(runs), width=3.9, height=3.1, ncols_max=3)
        notes = []
        # Common x range: from the first non-empty bin of any panel (rounded down to 0.25) to 1.
        lo = 0.0
        for r in runs:
            for key in ("cosine_same_histogram", "cosine_different_histogram"):
                h = np.asarray(r.analysis.get(key, []), float)
                nz = np.flatnonzero(h > 0)
                if nz.size:
                    lo = min(lo, -1.0 + 2.0 * nz[0] / len(h))
        lo = max(-1.0, math.floor(lo / 0.25) * 0.25)
        for ax, r in zip(axes, runs):
            same = np.asarray(r.analysis["cosine_same_histogram"], float)
            diff = np.asarray(r.analysis.get("cosine_different_histogram", np.zeros_like(same)), float)
            edges = np.linspace(-1, 1, len(same) + 1)
            width = edges[1] - edges[0]
            drew = False
            for h, colour, name, key in ((same, SAME_COLOR, "same digit", "cosine_same"),
                                         (diff, DIFFERENT_COLOR, "different digit", "cosine_different")):
                if h.sum() <= 0:
                    continue
                dens = h / (h.sum() * width)
                ax.stairs(dens, edges, fill=True, alpha=0.35, color=colour)
                ax.stairs(dens, edges, color=colour, linewidth=1.3,
                          label=f"{name}: mean {fmt_number(r.a(key + '_mean'), 3)}")
                if finite(r.a(key + "_mean")):
                    ax.axvline(r.a(key + "_mean"), color=colour, linestyle="--", linewidth=1)
                drew = True
            if not drew:
                reason = r.a("cosine_nan_reason", "") or "no pairs"
                zero = r.a("cosine_zero_rows", 0)
                ax.text(0.5, 0.5, textwrap.fill(f"no cosine statistics: {reason}"
                                                + (f" ({zero} all-zero codes)" if zero else ""), 32),
                        ha="center", va="center", transform=ax.transAxes, fontsize=9)
                ax.set_yticks([])
                ax.grid(False)
                notes.append(f"run {r.index:06d}: {reason}")
            else:
                ax.legend(loc="upper left", fontsize=7.5)
            ax.set_xlim(lo, 1)
            ax.set_xlabel("cosine similarity of latent codes")
            ax.set_ylabel("density")
            ax.set_title(f"run {r.index:06d}\n{wrap(sec.describe(r), 48)}", fontsize=9)
            zero = r.a("cosine_zero_rows", 0)
            if drew and zero:
                ax.text(0.98, 0.97, f"{zero} zero codes excluded", ha="right", va="top", transform=ax.transAxes,
                        fontsize=7.5, color="0.3")
        title = f"Cosine similarity, same vs different digit — section '{sec.title}'"
        fig.suptitle(title)
        caption = (f"Distribution of the cosine similarity between test-set latent codes of the same digit (blue) and "
                   f"of different digits (orange), as densities; dashed lines are the means. Runs: "
                   f"{self.run_list(runs, sec)} (paper 000 figs. 6a–7c)."
                   + (" No statistics for " + "; ".join(notes) + "." if notes else ""))
        self.save(fig, f"cosine_hist_{sec.file_id}.png", group, title, caption)

    def cosine_class_figure(self, sec, picks, group):
        panels = [r for r in picks if isinstance(r.analysis.get("cosine_class_mean"), np.ndarray)
                  and r.analysis["cosine_class_mean"].ndim == 2 and r.analysis["cosine_class_mean"].size > 0]
        if not panels:
            return
        mats = [np.asarray(r.analysis["cosine_class_mean"], float) for r in panels]
        fin = np.concatenate([m[np.isfinite(m)] for m in mats]) if mats else np.array([])
        vmin, vmax = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
        if vmax <= vmin:
            vmax = vmin + 1e-6
        fig, axes = self.plt.subplots(1, len(panels), figsize=(max(5.6, 3.9 * len(panels) + 0.9), 5.0), squeeze=False,
                                      layout="constrained")
        cm = self.plt.get_cmap("viridis").copy()
        cm.set_bad("0.85")
        im = None
        for ax, r, m in zip(axes[0], panels, mats):
            classes = r.analysis.get("cosine_classes")
            classes = list(np.asarray(classes).tolist()) if classes is not None else list(range(m.shape[0]))
            im = ax.imshow(np.ma.masked_invalid(m), cmap=cm, vmin=vmin, vmax=vmax)
            n = m.shape[0]
            fs = 6.5 if n <= 10 else 5
            for i in range(n):
                for j in range(m.shape[1]):
                    if np.isfinite(m[i, j]):
                        t = (m[i, j] - vmin) / (vmax - vmin)
                        ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=fs,
                                color="black" if t > 0.6 else "white")
            ax.set_xticks(range(m.shape[1]))
            ax.set_yticks(range(n))
            ax.set_xticklabels([str(c) for c in classes[: m.shape[1]]])
            ax.set_yticklabels([str(c) for c in classes[:n]])
            ax.set_xlabel("digit")
            ax.set_ylabel("digit")
            ax.grid(False)
            ax.set_title(f"run {r.index:06d}\n{wrap(sec.describe(r), 44)}", fontsize=9)
        cb = fig.colorbar(im, ax=list(axes[0]), shrink=0.85)
        cb.set_label("mean cosine similarity")
        title = f"Mean cosine similarity between digit classes — section '{sec.title}'"
        fig.suptitle(title)
        caption = (f"Entry (a, b): mean cosine similarity between the latent codes of test digits of class a and class b "
                   f"(diagonal = same digit), shared colour scale. Runs: {self.run_list(panels, sec)}.")
        self.save(fig, f"cosine_classes_{sec.file_id}.png", group, title, caption)

    def tsne_figure(self, sec, picks, group):
        labels = self.archive.labels
        panels, notes = [], []
        for r in picks:
            reason = r.a("tsne_nan_reason", "")
            kl = r.a("tsne_kl_divergence")
            emb = self.archive.tsne_embedding(r)
            if emb is None:
                notes.append(f"run {r.index:06d}: no t-SNE embedding" + (f" ({reason})" if reason else
                                                                           " (analysed with --no-tsne)"))
                continue
            if (reason and not finite(kl)) or not np.all(np.isfinite(emb)):
                notes.append(f"run {r.index:06d}: t-SNE not computed — {reason or 'non-finite embedding'}")
                continue
            if labels is None or len(labels) != emb.shape[0]:
                notes.append(f"run {r.index:06d}: t-SNE embedding has {emb.shape[0]} points but the archive has "
                             f"{0 if labels is None else len(labels)} test labels")
                continue
            panels.append((r, emb, reason))
        for n in notes:
            self.note(f"Section '{sec.title}', t-SNE: {n}.")
        if not panels:
            return
        fig, axes = self.plt.subplots(1, len(panels), figsize=(4.4 * len(panels) + 1.1, 4.6), squeeze=False,
                                      layout="constrained")
        cmap = self.plt.get_cmap("tab10")
        digits = sorted(set(labels.tolist()))
        for ax, (r, emb, reason) in zip(axes[0], panels):
            order = np.random.default_rng(0).permutation(len(emb))
            ax.scatter(emb[order, 0], emb[order, 1], c=[cmap(int(l) % 10) for l in labels[order]], s=3,
                       alpha=0.75, linewidths=0, rasterized=True)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("t-SNE 1")
            ax.set_ylabel("t-SNE 2")
            ax.grid(False)
            ax.set_title(f"run {r.index:06d}\n{wrap(sec.describe(r), 44)}", fontsize=9)
            stats = (f"KL {fmt_number(r.a('tsne_kl_divergence'), 3)}, trustworthiness "
                     f"{fmt_number(r.a('tsne_trustworthiness'), 3)}")
            ax.text(0.01, 0.01, stats, transform=ax.transAxes, fontsize=7.5, va="bottom",
                    bbox=dict(facecolor="white", alpha=0.8, edgecolor="none", pad=1.5))
        from matplotlib.lines import Line2D
        handles = [Line2D([], [], marker="o", linestyle="none", color=cmap(d % 10), markersize=7, label=str(d))
                   for d in digits]
        axes[0][-1].legend(handles=handles, title="digit", loc="center left", bbox_to_anchor=(1.02, 0.5),
                           frameon=False, fontsize=9)
        title = f"t-SNE of the test-set latent codes — section '{sec.title}'"
        fig.suptitle(title)
        caption = (f"2-D t-SNE embedding of every test digit's latent code, coloured by digit (tab10). Runs: "
                   f"{self.run_list([p[0] for p in panels], sec)} (paper 000 fig. 8)."
                   + (" Not shown: " + "; ".join(notes) + "." if notes else ""))
        self.save(fig, f"tsne_{sec.file_id}.png", group, title, caption)

    def kmeans_figure(self, sec, analysed, group):
        runs = [r for r in sec.primary_series(analysed) if isinstance(r.analysis.get("kmeans_k"), np.ndarray)
                and r.analysis["kmeans_k"].size > 0]
        if not runs:
            return
        runs = thin(runs, MAX_LINES)
        fig, axes = self.plt.subplots(1, 2, figsize=(10, 3.9), layout="constrained")
        cmap = self.plt.get_cmap("viridis")
        any_sil = False
        for i, r in enumerate(runs):
            colour = cmap(0.05 + 0.8 * i / max(1, len(runs) - 1)) if len(runs) > 1 else "tab:blue"
            k = np.asarray(r.analysis["kmeans_k"], float)
            sil = np.asarray(r.analysis.get("kmeans_silhouette", np.full_like(k, np.nan)), float)
            inertia = np.asarray(r.analysis.get("kmeans_inertia", np.full_like(k, np.nan)), float)
            label = f"{r.index}: " + (sec.describe(r, sec.series_keys) or "run")
            axes[0].plot(k, sil, marker="o", markersize=3.5, color=colour, label=label)
            axes[1].plot(k, inertia, marker="o", markersize=3.5, color=colour, label=label)
            any_sil |= bool(np.isfinite(sil).any())
        axes[0].set_title("silhouette of the k-means clustering")
        axes[0].set_ylabel("silhouette score")
        axes[1].set_title("k-means inertia")
        axes[1].set_ylabel("inertia (sum of squared distances)")
        for ax in axes:
            ax.set_xlabel("number of clusters k")
            ax.xaxis.get_major_locator().set_params(integer=True)
        if not any_sil:
            axes[0].text(0.5, 0.5, "silhouette undefined (NaN) for every k", ha="center", va="center",
                         transform=axes[0].transAxes)
        axes[1].legend(loc="upper right", fontsize=7.5 if len(runs) > 5 else 8.5)
        title = f"k-means on the latent codes — section '{sec.title}'"
        fig.suptitle(title)
        caption = (f"Silhouette score (left) and inertia (right) of k-means clusterings of the test-set latent codes "
                   f"against the number of clusters k. Runs: {self.run_list(runs, sec)} (paper 000 fig. 9).")
        self.save(fig, f"kmeans_{sec.file_id}.png", group, title, caption)


def thin(items, limit):
    """At most `limit` items, evenly spaced, keeping the first and the last."""
    if len(items) <= limit:
        return list(items)
    step = (len(items) - 1) / (limit - 1)
    return [items[i] for i in sorted({round(i * step) for i in range(limit)})]


def wrap(s, width):
    if len(s) <= width:
        return s
    parts, line = [], ""
    for token in s.split(", "):
        if line and len(line) + 2 + len(token) > width:
            parts.append(line + ",")
            line = token
        else:
            line = f"{line}, {token}" if line else token
    parts.append(line)
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# Index page


def summary_rows(archive, sections):
    sec_by_name = {s.name: s for s in sections}
    rows = []
    for r in archive.runs:
        sec = sec_by_name.get(r.section)
        if sec is None:
            if any(r in s.runs for s in sections):
                sec = next(s for s in sections if r in s.runs)
            else:
                continue
        swept = sec.describe(r) if sec.shown_keys else "—"
        a = r.analysis
        rows.append([
            f"{r.index:06d}", r.section or "—", swept, r.state_name,
            fmt_number(r.metrics.get("train_mse"), 4) if r.done else "—",
            fmt_number(r.metrics.get("test_mse"), 4) if r.done else "—",
            fmt_number(r.metrics.get("latent_density"), 3) if r.done else "—",
            fmt_number(r.metrics.get("dead_units"), 3) if r.done else "—",
            fmt_number(a.get("silhouette"), 3) if a else "—",
            fmt_number(a.get("knn_accuracy"), 3) if a else "—",
            (fmt_number(a.get("cosine_same_mean"), 3) + " / " + fmt_number(a.get("cosine_different_mean"), 3)) if a else "—",
        ])
    header = ["run", "section", "swept values", "status", "train MSE", "test MSE", "latent density", "dead units",
              "silhouette", "kNN accuracy", "cosine same / different"]
    return header, rows


def write_index(report, archive, sections, outdir, args):
    header, rows = summary_rows(archive, sections)
    states = {}
    for r in archive.runs:
        states[r.state_name] = states.get(r.state_name, 0) + 1
    notes = list(report.notes)
    if archive.analysis_note:
        notes.insert(0, archive.analysis_note)
    pending = [r for r in archive.runs if r.state == 0]
    failed = [r for r in archive.runs if r.state == 3]
    diverged = [r for r in archive.runs if r.state == 2]
    if pending:
        notes.append(f"{len(pending)} pending run(s) skipped: " + ", ".join(f"{r.index:06d}" for r in pending) + ".")
    for r in failed:
        notes.append(f"Failed run {r.index:06d} (section '{r.section}') skipped: "
                     + (r.metrics.get("error") or "no error message") + ".")
    for r in diverged:
        notes.append(f"Diverged run {r.index:06d} (section '{r.section}'): "
                     + (r.metrics.get("error") or "no error message") + "; NaN values are left out of the plots.")
    not_analysed = [r for r in archive.runs if r.done and r.analysis is None]
    if archive.analysis_hash and not_analysed:
        notes.append(f"{len(not_analysed)} finished run(s) have no result in analysis {archive.analysis_hash}: "
                     + ", ".join(f"{r.index:06d}" for r in not_analysed) + ".")
    for s in sections:
        if s.shared:
            notes.append(f"Section '{s.title}' also includes run(s) " + ", ".join(f"{i:06d}" for i in sorted(s.shared))
                         + " trained once for an earlier section with identical settings.")
    for r in archive.runs:
        if r.analysis and r.analysis.get("tsne_nan_reason") and not finite(r.analysis.get("tsne_kl_divergence")):
            msg = f"Run {r.index:06d}: t-SNE not computed — {r.analysis['tsne_nan_reason']}."
            if not any(msg[:11] in n and "t-SNE" in n for n in notes):
                notes.append(msg)

    ds = archive.dataset
    meta = [
        ("archive", os.path.abspath(archive.path)),
        ("data set", f"{ds.get('name', '?')} ({ds.get('n_train', '?')} train, {ds.get('n_test', '?')} test, "
                     f"{ds.get('input_size', '?')} inputs)"),
        ("runs", f"{archive.n_runs} in the study; shown: {len(archive.runs)} ("
                 + ", ".join(f"{v} {k}" for k, v in sorted(states.items())) + ")"),
        ("sections", ", ".join(f"{s.title} ({len(s.runs)} runs; swept: "
                               + (", ".join(s.label(k) for k in s.varying) or "nothing") + ")" for s in sections)),
        ("created", f"{archive.attrs.get('created', '?')} by aesweep {archive.attrs.get('aesweep_version', '?')}"),
        ("analysis", archive.analysis_hash or "none"),
    ]
    title = f"aesweep report — {os.path.basename(archive.path)}"

    groups = []
    for g, name, t, c in report.figures:
        if not groups or groups[-1][0] != g:
            groups.append((g, []))
        groups[-1][1].append((name, t, c))

    h = html.escape
    out = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>", f"<title>{h(title)}</title>",
           "<style>body{font-family:sans-serif;max-width:1300px;margin:1em auto;padding:0 1em;color:#222}"
           "figure{margin:1.5em 0;border-bottom:1px solid #ddd;padding-bottom:1em}"
           "figure img{max-width:100%;height:auto}figcaption{font-size:0.92em;color:#333;margin-top:0.4em}"
           "table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
           "th{background:#f0f0f0}tr.pending td,tr.failed td{color:#888}tr.diverged td{color:#b00}"
           "pre{background:#f6f6f6;padding:0.5em;overflow-x:auto;font-size:0.85em}</style></head><body>",
           f"<h1>{h(title)}</h1>", "<table>"]
    for k, v in meta:
        out.append(f"<tr><th>{h(k)}</th><td>{h(str(v))}</td></tr>")
    out.append("</table>")
    if notes:
        out.append("<h2>Notes</h2><ul>" + "".join(f"<li>{h(n)}</li>" for n in notes) + "</ul>")
    out.append("<h2>Contents</h2><ul>")
    for gi, (g, figs) in enumerate(groups):
        out.append(f"<li><a href='#g{gi}'>{h(g)}</a>: " + ", ".join(h(f[0]) for f in figs) + "</li>")
    out.append("<li><a href='#summary'>Summary table</a></li></ul>")
    for gi, (g, figs) in enumerate(groups):
        out.append(f"<h2 id='g{gi}'>{h(g)}</h2>")
        for name, t, c in figs:
            out.append(f"<figure id='{h(name)}'><a href='{h(name)}'><img src='{h(name)}' alt='{h(t)}'></a>"
                       f"<figcaption><b>{h(name)}</b> — {h(t)}. {h(c)}</figcaption></figure>")
    out.append("<h2 id='summary'>Summary table</h2><table><tr>" + "".join(f"<th>{h(c)}</th>" for c in header) + "</tr>")
    for row in rows:
        out.append(f"<tr class='{h(row[3])}'>" + "".join(f"<td>{h(str(c))}</td>" for c in row) + "</tr>")
    out.append("</table>")
    if archive.analysis_options:
        out.append(f"<details><summary>Analysis options ({h(archive.analysis_hash)})</summary>"
                   f"<pre>{h(archive.analysis_options)}</pre></details>")
    if archive.config_text:
        out.append(f"<details><summary>Study config</summary><pre>{h(archive.config_text)}</pre></details>")
    out.append(f"<p><small>Written by analysis/report.py (dpi {args.dpi}).</small></p></body></html>")
    with open(os.path.join(outdir, "index.html"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(out) + "\n")

    md = [f"# {title}", ""]
    md += [f"- **{k}**: {v}" for k, v in meta]
    if notes:
        md += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    for g, figs in groups:
        md += ["", f"## {g}", ""]
        for name, t, c in figs:
            md += [f"![{t}]({name})", "", f"*{name}* — {t}. {c}", ""]
    md += ["", "## Summary table", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    with open(os.path.join(outdir, "index.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(md) + "\n")


# --------------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="report.py",
        description="Turn an aesweep sweep archive (optionally analysed by aesweep-analyze) into PNG figures and "
                    "an index page (OUTDIR/index.html and OUTDIR/index.md) showing every figure with its caption. "
                    "Reproduces the figure types of paper 000: MSE and latent density against the swept "
                    "hyperparameter, encoder weight tiles, original/latent/reconstruction rows, cosine similarity "
                    "histograms, t-SNE and silhouette against k; plus loss curves, class-mean cosine matrices, "
                    "kNN accuracy and two-key grid heatmaps. Pending and failed runs are skipped and listed. "
                    "Run it as /usr/bin/python3 analysis/report.py (needs python3-h5py, -matplotlib, -numpy).",
        epilog="Example: /usr/bin/python3 analysis/report.py out/demo.h5 -o out/demo-report --runs 0-20 --dpi 200")
    p.add_argument("archive", metavar="ARCHIVE.h5", help="sweep archive written by 'aesweep sweep' (docs/archive.md)")
    p.add_argument("-o", "--out", metavar="OUTDIR", required=True,
                   help="output directory for the PNGs and index.html / index.md (created if missing; existing "
                        "files of the same names are overwritten)")
    p.add_argument("--analysis", metavar="HASH", default=None,
                   help="which aesweep-analyze result to use: the options hash under /analysis (default: the one "
                        "named by the /analysis 'latest' attribute); without any /analysis group the analysis "
                        "figures are skipped with a note")
    p.add_argument("--analysis-file", metavar="FILE", default=None,
                   help="read /analysis from this file instead of the archive (for aesweep-analyze --out FILE)")
    p.add_argument("--runs", metavar="LIST", type=parse_run_list, default=None,
                   help="only these runs, by study index: comma-separated indices and ranges, e.g. 0,3,10-19 "
                        "(default: every run)")
    p.add_argument("--sections", metavar="NAMES", default=None,
                   help="only these sweep sections, comma-separated names (default: every section)")
    p.add_argument("--dpi", type=int, default=150, help="resolution of the PNG files (default: 150)")
    p.add_argument("--units", type=int, default=0, metavar="N",
                   help="hidden units shown as weight tiles per run (default: all up to 196, else the first 100)")
    args = p.parse_args(argv)
    if args.dpi < 20 or args.dpi > 1200:
        p.error("--dpi must be between 20 and 1200")
    if args.units < 0:
        p.error("--units must be >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        archive = Archive(args.archive, args)
        wanted = None
        if args.sections:
            wanted = {s.strip() for s in args.sections.split(",") if s.strip()}
        sections = build_sections(archive, wanted)
        if wanted:
            missing = wanted - {s.name for s in sections}
            if missing:
                raise ReportError(f"{args.archive}: no section named {', '.join(sorted(missing))}; sections: "
                                  + ", ".join(sorted({r.section for r in archive.runs})))
            keep = {r.index for s in sections for r in s.runs}
            archive.runs = [r for r in archive.runs if r.index in keep]
        try:
            os.makedirs(args.out, exist_ok=True)
        except OSError as e:
            raise ReportError(f"{args.out}: cannot create the output directory ({e.strerror})") from None
        report = Report(archive, sections, args.out, args.dpi, args.units)
        if not any(r.done for r in archive.runs):
            report.note("No finished run in the archive (or in --runs): no figures.")
        else:
            report.study_figures()
            for sec in sections:
                report.section_figures(sec)
        write_index(report, archive, sections, args.out, args)
    except ReportError as e:
        print(f"report.py: error: {e}", file=sys.stderr)
        return 2
    print(f"report.py: wrote {len(report.figures)} figures and {os.path.join(args.out, 'index.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
