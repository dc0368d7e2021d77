"""Reading a sweep archive (docs/archive.md): its header, the data set, every run's settings and
outcome, the sweep's sections and the results aesweep-analyze stored under /analysis.

Column names come from the file: a run's settings are the keys of its `settings` attribute, its
outcome the fields of its `metrics` dataset (or, without one, the /summary columns that are not
run attributes). The sections come from /sections (format 2) or, in format 1 archives, from each
run's `section` attribute."""
import os
import re

import h5py
import numpy as np

from .labels import Classes
from .util import ReportError, finite, is_text, lines, same_value, scalar, text

FORMAT_VERSIONS = (1, 2, 3)
STATE_NAMES = {0: "pending", 1: "complete", 2: "diverged", 3: "failed", 4: "stopped"}
STOPPED = 4  # a successive-halving / hyperband schedule ended the run at a rung


class Run:
    def __init__(self, index, group_name):
        self.index = index
        self.group_name = group_name
        self.section = ""       # the section that trained the run (the first of `sections`)
        self.sections = []      # every section the run belongs to, config order
        self.state = 0
        self.settings = {}
        self.metrics = {}
        self.analysis = None    # dict, or None when not analysed

    @property
    def done(self):
        """Trained to the end, or diverged: the runs the figures draw and compare."""
        return self.state in (1, 2)

    @property
    def stopped(self):
        """Ended by the schedule at an early rung: metrics, weights and codes as at that rung."""
        return self.state == STOPPED

    @property
    def has_outcome(self):
        """Complete, diverged or stopped: the run's metrics are recorded (the summary table shows them)."""
        return self.done or self.stopped

    @property
    def name(self):
        """'run 000004', or 'diverged run 000004' for a run whose training diverged (titles, captions)."""
        return ("diverged run " if self.state == 2 else "run ") + f"{self.index:06d}"

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


class SectionSpec:
    """A sweep section as the archive records it: name, swept keys (the section's axes, file
    order), where the config defines it, the indices of all its runs in grid order, and for a
    search section ([search.NAME]) its method ("random" or "sobol"; "" for a grid)."""

    def __init__(self, name, keys, runs, origin="", stored=True, method=""):
        self.name = name
        self.keys = list(keys)
        self.runs = list(runs)
        self.origin = origin
        self.stored = stored    # False: derived from the runs of a format 1 archive
        self.method = method


def open_archive(path):
    """The h5py.File of a sweep archive, or a ReportError naming the file and what is wrong."""
    if not os.path.exists(path):
        raise ReportError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ReportError(f"{path}: is a directory, not a sweep archive")
    try:
        if not h5py.is_hdf5(path):
            raise ReportError(f"{path}: not an HDF5 file, so not an aesweep sweep archive")
        f = h5py.File(path, "r")
    except OSError as e:
        raise ReportError(f"{path}: cannot open as HDF5 ({e})") from None
    if "runs_state" not in f or "runs" not in f or "format_version" not in f.attrs:
        raise ReportError(f"{path}: HDF5 file but not an aesweep sweep archive (no /runs_state, /runs or "
                          "format_version; see docs/archive.md)")
    version = int(np.asarray(f.attrs["format_version"]).item())
    if version > max(FORMAT_VERSIONS):
        raise ReportError(f"{path}: archive format version {version} is newer than this report "
                          f"({max(FORMAT_VERSIONS)})")
    return f


def varying_keys(runs, order):
    """The keys of `order` whose value is not the same in every run."""
    return [k for k in order if not all(same_value(runs[0].settings.get(k), r.settings.get(k)) for r in runs)]


def distinctive_keys(own, others, order):
    """Keys constant within `own` whose value no run of `others` has: what sets a section that
    sweeps nothing apart (its one run's contractive λ = 0.01, say)."""
    if not own or not others:
        return []
    first = own[0].settings
    return [k for k in order if k in first and not varying_keys(own, [k])
            and not any(same_value(first[k], o.settings.get(k)) for o in others)]


def derived_sections(runs, order):
    """Format 1: one section per `section` label, in order of first appearance; its swept keys are
    the settings that vary among its runs (or, for one run, those that set it apart)."""
    labelled = {}
    for r in runs:
        labelled.setdefault(r.section, []).append(r)
    specs = []
    for name, own in labelled.items():
        others = [r for r in runs if r.section != name]
        keys = varying_keys(own, order) or distinctive_keys(own, others, order)
        specs.append(SectionSpec(name, keys, [r.index for r in own], stored=False))
    return specs


def stored_sections(f, path, n_runs):
    """Format 2: the sections under /sections/NNN in config order."""
    root = f["sections"]
    if not isinstance(root, h5py.Group):
        raise ReportError(f"{path}: /sections is damaged (not a group; see docs/archive.md)")
    specs = []
    for child in sorted((k for k in root.keys() if k.isdigit()), key=int):
        g = root[child]
        if "name" not in g.attrs or "runs" not in g or not isinstance(g["runs"], h5py.Dataset):
            raise ReportError(f"{path}: /sections/{child} is damaged (it needs a 'name' attribute and a 'runs' "
                              "dataset; see docs/archive.md)")
        runs = np.asarray(g["runs"][()]).ravel()
        if runs.size and (runs.dtype.kind not in "iu" or runs.min() < 0 or runs.max() >= n_runs):
            raise ReportError(f"{path}: /sections/{child}/runs is damaged (it must hold run indices in "
                              f"0..{n_runs - 1})")
        specs.append(SectionSpec(text(g.attrs["name"]), lines(g.attrs.get("swept_keys", b"")),
                                 [int(i) for i in runs], text(g.attrs.get("origin", b"")),
                                 method=text(g.attrs.get("method", b"")).strip()))
    return specs


class Archive:
    def __init__(self, path, only_runs=None, analysis=None, analysis_file=None):
        self.path = path
        self.f = open_archive(path)
        f = self.f
        self.version = int(np.asarray(f.attrs["format_version"]).item())
        self.attrs = {k: (text(v) if is_text(v) else v) for k, v in f.attrs.items()}
        self.config_text = text(f.attrs.get("config_text", b""))
        self._read_dataset()
        self.classes = Classes(self.dataset.get("name"))
        self.notes = []
        self._read_columns()
        self._read_runs(only_runs)
        self._read_sections()
        self.af = self.f
        try:
            self._read_analysis(analysis, analysis_file)
        except (OSError, RuntimeError, KeyError, ValueError) as e:
            self._analysis_damaged(e, analysis_file)

    def _read_dataset(self):
        f = self.f
        self.dataset = {k: scalar(v) for k, v in f["dataset"].attrs.items()} if "dataset" in f else {}

        def array(name, dtype):
            return np.asarray(f[name][:], dtype=dtype) if name in f else None

        self.labels = array("dataset/test_labels", np.int64)
        self.recon_indices = array("dataset/recon_indices", np.int64)
        self.recon_originals = array("dataset/recon_originals", np.float64)

    # -- runs

    def _read_columns(self):
        """Setting keys (registry order) and outcome columns, as the file names them."""
        runs = self.f["runs"]
        first = next((runs[k] for k in runs.keys() if k.isdigit()), None)
        self.setting_order = []
        self.outcome_columns = []
        if first is None:
            return
        self.setting_order = [line.split("=", 1)[0].strip() for line in lines(first.attrs.get("settings", b""))
                              if "=" in line]
        if "metrics" in first and first["metrics"].dtype.names:
            names = first["metrics"].dtype.names
            self.outcome_columns = [n for n in names if n != "state"]
        elif "summary" in self.f and self.f["summary"].dtype.names:
            attrs = set(first.attrs.keys())
            self.outcome_columns = [n for n in self.f["summary"].dtype.names if n not in attrs and n != "state"]

    def _read_runs(self, only):
        f = self.f
        states = np.asarray(f["runs_state"][:], dtype=np.int64)
        names = {int(name): name for name in f["runs"].keys() if name.isdigit()}
        summary = f["summary"][:] if "summary" in f else None
        runs = []
        for i, state in enumerate(states):
            if i not in names:
                if only is None or i in only:
                    self.notes.append(f"run {i:06d} is listed in /runs_state but has no /runs group; skipped")
                continue
            row = summary[i] if summary is not None and i < len(summary) else None
            runs.append(self._read_run(i, names[i], int(state), row))
        if only is not None:
            missing = sorted(i for i in only if i >= len(states))
            if not any(r.index in only for r in runs):
                have = f"runs 0-{len(states) - 1}" if len(states) > 1 else "run 0" if len(states) else "no runs"
                raise ReportError(f"{self.path}: --runs selects no run of the archive (it has {have})")
            if missing:
                self.notes.append("--runs names runs the archive does not have: " + ", ".join(map(str, missing)))
        self.n_runs = len(states)
        self.all_runs = runs
        self.runs = [r for r in runs if only is None or r.index in only]
        self.by_index = {r.index: r for r in self.runs}

    def _read_run(self, i, group_name, state, row):
        r = Run(i, group_name)
        r.state = state
        g = self.f["runs"][group_name]
        from_row = row is not None and "index" in row.dtype.names and int(row["index"]) == i
        settings = row if from_row else g.attrs
        fields = set(row.dtype.names) if from_row else set(g.attrs.keys())
        r.section = text(row["section"]) if from_row and "section" in fields else text(g.attrs.get("section", b""))
        for k in self.setting_order:
            v = settings[k] if k in fields else None
            if is_text(v):
                r.settings[k] = text(v)
            elif v is not None and np.ndim(v) == 0 and finite(v):
                r.settings[k] = float(v)
        outcome = row if from_row else (g["metrics"][()] if "metrics" in g and r.has_outcome else None)
        names = set(outcome.dtype.names or ()) if outcome is not None else set()
        for k in self.outcome_columns:
            if k in names:
                r.metrics[k] = scalar(outcome[k])
        if not r.has_outcome:
            r.metrics = {k: v for k, v in r.metrics.items() if k in ("host", "error")}
        r.sections = [r.section]
        return r

    # -- sections

    def _read_sections(self):
        if "sections" in self.f:
            self.section_specs = stored_sections(self.f, self.path, self.n_runs)
            member_of = {}
            for spec in self.section_specs:
                for i in dict.fromkeys(spec.runs):
                    member_of.setdefault(i, []).append(spec.name)
            for r in self.all_runs:
                r.sections = member_of.get(r.index) or [r.section]
            # Runs no stored section lists (a study of the defaults alone has none) by their label.
            unlisted = [r for r in self.all_runs if r.index not in member_of]
            self.section_specs += derived_sections(unlisted, self.setting_order) if unlisted else []
        else:
            self.section_specs = derived_sections(self.all_runs, self.setting_order)

    @property
    def sections_stored(self):
        return "sections" in self.f

    # -- analysis

    def identity(self):
        """The archive's identity as aesweep-analyze records it (archive_id; older archives: config
        hash and creation time)."""
        if "archive_id" in self.attrs:
            return str(self.attrs["archive_id"])
        return f"config {self.attrs.get('config_hash', '')}, created {self.attrs.get('created', '')}"

    @staticmethod
    def _analysis_damaged(error, analysis_file):
        """h5py's error reading a separate --analysis-file: a ReportError naming that file (the
        archive's own /analysis is reported as the archive's, by the command)."""
        if not analysis_file:
            raise error
        raise ReportError(f"{analysis_file}: --analysis-file cannot be read: it is damaged ({error})") from None

    def _analysis_file(self, analysis_file):
        if not analysis_file:
            return self.f
        if not os.path.exists(analysis_file):
            raise ReportError(f"{analysis_file}: --analysis-file does not exist")
        if os.path.isdir(analysis_file) or not h5py.is_hdf5(analysis_file):
            raise ReportError(f"{analysis_file}: --analysis-file is not an HDF5 file")
        f = h5py.File(analysis_file, "r")
        if "analysis" not in f or not isinstance(f["analysis"], h5py.Group) or len(f["analysis"].keys()) == 0:
            f.close()
            raise ReportError(f"{analysis_file}: --analysis-file has no /analysis group (give the file that "
                              "aesweep-analyze --out wrote)")
        # Results only ever go with the archive they were computed from (aesweep-analyze records it).
        source = text(f["analysis"].attrs.get("source_archive_id", b"")) if "analysis" in f else ""
        if source and source != self.identity():
            raise ReportError(f"{analysis_file}: its analysis was computed from another archive (archive id {source}; "
                              f"{self.path} has id {self.identity()})")
        return f

    def _read_analysis(self, wanted, analysis_file):
        self.analysis_hash = None
        self.analysis_options = ""
        self.analysis_note = None
        f = self.af = self._analysis_file(analysis_file)
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
            chosen = latest if latest in hashes else max(
                hashes, key=lambda h: text(root[h].attrs.get("created", b"")))
        self.analysis_hash = chosen
        group = root[chosen]
        self.analysis_options = text(group.attrs.get("options", b""))
        if "runs" not in group:
            self.analysis_note = f"Analysis {chosen} holds no runs: the analysis figures are skipped."
            return
        n_done = self._read_analysis_runs(group["runs"])
        if n_done == 0:
            self.analysis_note = (f"Analysis {chosen} holds no complete result for the runs shown: the analysis "
                                  "figures are skipped.")

    def _read_analysis_runs(self, parent):
        """Attach each done run's newest complete result; the number attached."""
        by_run = {}
        for child in parent.keys():
            m = re.fullmatch(r"(\d+)(?:\.partial(\d+))?", child)
            if not m or "complete" not in parent[child].attrs:
                continue  # not a run, or an interrupted write
            run, attempt = int(m.group(1)), int(m.group(2) or 0)
            # The newest complete attempt wins (a forced re-analysis writes name.partialN).
            if run not in by_run or attempt > by_run[run][0]:
                by_run[run] = (attempt, child)
        n_done = 0
        for r in self.runs:
            if r.done and r.index in by_run:
                r.analysis = self._analysis_result(parent[by_run[r.index][1]])
                n_done += 1
        return n_done

    @staticmethod
    def _analysis_result(g):
        out = {k: scalar(v) for k, v in g.attrs.items()}
        for k in g.keys():
            if k != "tsne_embedding":
                out[k] = np.asarray(g[k][:])
        out["_group"] = g
        return out

    # -- per-run data

    def tsne_embedding(self, run):
        g = run.analysis.get("_group") if run.analysis else None
        try:
            if g is None or "tsne_embedding" not in g:
                return None
            return np.asarray(g["tsne_embedding"][:], dtype=np.float64)
        except (OSError, RuntimeError, KeyError, ValueError) as e:
            self._analysis_damaged(e, None if self.af is self.f else self.af.filename)

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

    def close(self):
        if self.af is not self.f:
            self.af.close()
        self.f.close()

    def select(self, keep):
        """Only the runs whose index is in `keep` are shown."""
        self.runs = [r for r in self.runs if r.index in keep]
        self.by_index = {r.index: r for r in self.runs}
