"""The section model: the runs of one sweep section, the settings it sweeps, the x axis of its
figures and the runs its per-run figures show. A run that belongs to several sections (trained
once, listed in each) is a member of every one of them."""
from .archive import varying_keys
from .labels import setting_label
from .util import ReportError, distinct, fmt_value, is_number, safe_name, same_value


class Section:
    def __init__(self, spec, runs, key_order, file_id):
        self.name = spec.name
        self.origin = spec.origin
        self.method = spec.method     # "random" or "sobol" for a search section, "" for a grid
        self.axes = list(spec.keys)   # the section's swept keys as the archive records them
        self.runs = list(runs)        # members shown (any state), grid order
        self.shared = {r.index for r in runs if r.section != spec.name}  # trained for another section
        order = self.axes + [k for k in key_order if k not in self.axes]
        self.varying = varying_keys(self.runs, order)   # keys that vary among the members shown
        self.values = {}              # key -> distinct values, numbers ascending, others in grid order
        for k in self.varying:
            vals = distinct(r.settings.get(k) for r in self.runs)
            self.values[k] = sorted(vals) if all(is_number(v) for v in vals) else vals
        numeric = [k for k in self.varying if self.numeric(k)]
        self.xkey = max(numeric, key=lambda k: (len(self.values[k]), -self.varying.index(k))) if numeric else None
        self.file_id = file_id

    @property
    def title(self):
        return self.name or "(no section)"

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
        """The keys that vary among the runs shown, or, when none does, the section's swept keys."""
        return self.varying or self.axes

    @property
    def series_keys(self):
        """Keys that tell the runs of primary_series apart: the x key and the categorical swept keys."""
        keys = [k for k in self.varying if k == self.xkey or not self.numeric(k)]
        return keys or self.shown_keys

    def describe(self, run, keys=None):
        keys = self.shown_keys if keys is None else keys
        return ", ".join(f"{self.label(k)} = {fmt_value(k, run.settings.get(k))}" for k in keys)

    def run_caption(self, run):
        d = self.describe(run)
        return run.name + (f" ({d})" if d else "")

    def run_list(self, runs):
        return "; ".join(self.run_caption(r) for r in runs)

    def compact_runs(self, runs):
        """'run 0 (λ = 0), run 1 (λ = 1e-5)' for a few runs, else the run list and the value sets."""
        if len(runs) <= 8 or not self.shown_keys:
            return ", ".join(self.run_caption(r) for r in runs)
        values = []
        for k in self.shown_keys:
            vals = distinct(r.settings.get(k) for r in runs)
            values.append(f"{self.label(k)} ∈ {{{', '.join(fmt_value(k, v) for v in vals)}}}")
        return "runs " + ", ".join(str(r.index) for r in runs) + " with " + " × ".join(values)

    def done_runs(self):
        return [r for r in self.runs if r.done]

    @property
    def search(self):
        """A search section: random or Sobol points, not a grid (no two runs need share a value)."""
        return bool(self.method)

    def primary_series(self, runs):
        """Runs along the x key with every other numeric swept key at its first (smallest) value; in a
        search section, where the points share no values, every run along the x key."""
        if self.search:
            return sorted(runs, key=lambda r: (self.rank(r, self.xkey) if self.xkey else 0, r.index))
        others = [k for k in self.varying if k != self.xkey and self.numeric(k)]
        out = [r for r in runs if all(self.rank(r, k) == 0 for k in others)]
        return sorted(out or list(runs), key=self.sort_key)

    def same_except(self, run, base, key):
        return all(same_value(run.settings.get(o), base.settings.get(o)) for o in self.varying if o != key)

    def pick_runs(self, limit=4):
        """Runs for per-run figures: the baseline (every swept key at its smallest value), the largest
        value of each numeric swept key with the others at baseline, one run per other value of a
        categorical key; always the first and last when there are no swept keys."""
        runs = [r for r in self.runs if r.state == 1] or [r for r in self.runs if r.state == 2]
        if not runs:
            return []
        if self.search:
            return self.pick_search_runs(runs, limit)
        order = sorted(runs, key=self.sort_key)
        base = order[0]
        picks = [base]

        def add(r):
            if r is not None and all(p.index != r.index for p in picks):
                picks.append(r)

        numeric_keys = sorted((k for k in self.varying if self.numeric(k)), key=lambda k: k != self.xkey)
        for k in numeric_keys:
            cands = [r for r in runs if self.same_except(r, base, k)] or runs
            add(max(cands, key=lambda r: (self.rank(r, k), -r.index)))
        for k in [k for k in self.varying if not self.numeric(k)][:1]:
            for v in self.values[k][1:]:
                cands = [r for r in runs if same_value(r.settings.get(k), v)]
                same_rest = [r for r in cands if self.same_except(r, base, k)]
                if same_rest or cands:
                    add((same_rest or sorted(cands, key=self.sort_key))[0])
        if len(picks) == 1 and len(order) > 1:
            add(order[-1])
        return sorted(picks[:limit], key=self.sort_key)

    def pick_search_runs(self, runs, limit):
        """A search section's runs for per-run figures: the smallest and the largest x value, then the
        largest value of each other numeric swept key (up to `limit` runs)."""
        picks = []

        def add(r):
            if len(picks) < limit and all(p.index != r.index for p in picks):
                picks.append(r)

        numeric = [k for k in self.varying if self.numeric(k)]
        if self.xkey:
            by_x = sorted(runs, key=lambda r: (self.rank(r, self.xkey), r.index))
            add(by_x[0])
            add(by_x[-1])
        for k in [k for k in numeric if k != self.xkey]:
            add(max(runs, key=lambda r: (self.rank(r, k), -r.index)))
        if not picks:
            add(runs[0])
            add(runs[-1])
        return sorted(picks, key=lambda r: (self.rank(r, self.xkey) if self.xkey else 0, r.index))


def build_sections(archive, wanted=None):
    """The sections of the archive (config order) that have a run shown, restricted to `wanted`
    names; a name in `wanted` that the archive lacks is a ReportError."""
    specs = archive.section_specs
    if wanted:
        missing = set(wanted) - {s.name for s in specs}
        if missing:
            raise ReportError(f"{archive.path}: no section named {', '.join(sorted(missing))}; sections: "
                              + ", ".join(s.name for s in specs))
    sections, used_ids = [], set()
    for spec in specs:
        file_id = safe_name(spec.name or "runs")
        while file_id in used_ids:
            file_id += "_"
        used_ids.add(file_id)
        members = [archive.by_index[i] for i in dict.fromkeys(spec.runs) if i in archive.by_index]
        if members and (not wanted or spec.name in wanted):
            sections.append(Section(spec, members, archive.setting_order, file_id))
    return sections
