"""The index page: OUTDIR/index.html and OUTDIR/index.md with the study's facts, notes, every
figure with its caption, and a summary table with one row per run."""
import html
import os

from .util import finite, fmt_number, run_ids, write_file

STYLE = ("body{font-family:sans-serif;max-width:1300px;margin:1em auto;padding:0 1em;color:#222}"
         "figure{margin:1.5em 0;border-bottom:1px solid #ddd;padding-bottom:1em}"
         "figure img{max-width:100%;height:auto}figcaption{font-size:0.92em;color:#333;margin-top:0.4em}"
         "table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
         "th{background:#f0f0f0}tr.pending td,tr.failed td{color:#888}tr.diverged td{color:#b00}"
         "tr.stopped td{color:#666;font-style:italic}"
         "pre{background:#f6f6f6;padding:0.5em;overflow-x:auto;font-size:0.85em}")


def summary_rows(archive, sections):
    """(header, rows): one row per run shown, its swept values as its first section describes them."""
    noun = archive.classes.noun
    header = ["run", "sections", "swept values", "status", "train MSE", "test MSE", "latent density", "dead units",
              "silhouette", "kNN accuracy", f"cosine same / different {noun}"]
    rows = []
    for r in archive.runs:
        sec = next((s for s in sections if s.name == r.section and r in s.runs), None) or next(
            (s for s in sections if r in s.runs), None)
        if sec is None:
            continue
        a = r.analysis

        def m(key, digits, r=r):
            return fmt_number(r.metrics.get(key), digits) if r.has_outcome else "—"

        rows.append([
            f"{r.index:06d}", ", ".join(s or "—" for s in r.sections) or "—",
            sec.describe(r) if sec.shown_keys else "—", r.state_name,
            m("train_mse", 4), m("test_mse", 4), m("latent_density", 3), m("dead_units", 3),
            fmt_number(a.get("silhouette"), 3) if a else "—", fmt_number(a.get("knn_accuracy"), 3) if a else "—",
            (fmt_number(a.get("cosine_same_mean"), 3) + " / " + fmt_number(a.get("cosine_different_mean"), 3))
            if a else "—",
        ])
    return header, rows


def index_notes(canvas, archive, sections):
    notes = list(canvas.notes)
    if archive.analysis_note:
        notes.insert(0, archive.analysis_note)
    if not archive.sections_stored and archive.section_specs:
        notes.append(f"This archive (format {archive.version}) does not record its sweep sections: each run is shown "
                     "in the section that trained it only, and a section's swept settings are those that vary "
                     "among its runs.")
    pending = [r for r in archive.runs if r.state == 0]
    if pending:
        notes.append(f"{len(pending)} pending run(s) skipped: {run_ids(pending)}.")
    for r in archive.runs:
        if r.state == 3:
            notes.append(f"Failed run {r.index:06d} (section '{r.section}') skipped: "
                         + (r.metrics.get("error") or "no error message") + ".")
    for r in archive.runs:
        if r.state == 2:
            notes.append(f"Diverged run {r.index:06d} (section '{r.section}'): "
                         + (r.metrics.get("error") or "no error message") + "; NaN values are left out of the plots.")
    notes += stopped_notes(archive.runs)
    not_analysed = [r for r in archive.runs if r.done and r.analysis is None]
    if archive.analysis_hash and not_analysed:
        notes.append(f"{len(not_analysed)} finished run(s) have no result in analysis {archive.analysis_hash}: "
                     f"{run_ids(not_analysed)}.")
    for s in sections:
        if s.shared:
            notes.append(f"Section '{s.title}' also includes run(s) " + ", ".join(f"{i:06d}" for i in sorted(s.shared))
                         + " trained once for an earlier section with identical settings.")
    for r in archive.runs:
        if r.analysis and r.analysis.get("tsne_nan_reason") and not finite(r.analysis.get("tsne_kl_divergence")):
            # One note per run: the t-SNE figure's note already names the runs it picked.
            if not any(f"run {r.index:06d}:" in n and "t-SNE" in n for n in notes):
                notes.append(f"{r.name[0].upper()}{r.name[1:]}: t-SNE not computed — {r.analysis['tsne_nan_reason']}.")
    return notes


def stopped_notes(runs):
    """One note for the runs a schedule stopped at an early rung (what the table and figures do with them)."""
    stopped = [r for r in runs if r.stopped]
    if not stopped:
        return []
    return [f"{len(stopped)} run(s) stopped by the schedule at an early rung: " + ", ".join(
        f"{r.index:06d}" + (f" (after epoch {fmt_number(r.metrics['epochs_run'])})" if finite(
            r.metrics.get("epochs_run")) else "") for r in stopped)
        + ". The summary table shows their metrics as at that rung; the figures leave them out, since they "
          "compare runs trained to the end."]


def index_facts(archive, sections):
    ds = archive.dataset
    states = {}
    for r in archive.runs:
        states[r.state_name] = states.get(r.state_name, 0) + 1
    facts = [
        ("archive", os.path.abspath(archive.path)),
        ("data set", f"{ds.get('name', '?')} ({ds.get('n_train', '?')} train, {ds.get('n_test', '?')} test, "
                     f"{ds.get('input_size', '?')} inputs)"),
    ]
    if archive.labels is not None and len(archive.labels):
        facts.append(("classes", ", ".join(archive.classes.name(c) for c in sorted(set(archive.labels.tolist())))))
    facts += [
        ("runs", f"{archive.n_runs} in the study; shown: {len(archive.runs)} ("
                 + ", ".join(f"{v} {k}" for k, v in sorted(states.items())) + ")"),
        ("sections", ", ".join(f"{s.title} ({len(s.runs)} run{'' if len(s.runs) == 1 else 's'}; swept: "
                               + (", ".join(s.label(k) for k in s.shown_keys) or "nothing")
                               + (f"; {s.origin}" if s.origin else "") + ")" for s in sections)),
        ("created", f"{archive.attrs.get('created', '?')} by aesweep {archive.attrs.get('aesweep_version', '?')}"),
        ("analysis", archive.analysis_hash or "none"),
    ]
    return facts


def figure_groups(canvas):
    """[(group, [Figure])] in drawing order."""
    groups = []
    for fig in canvas.figures:
        if not groups or groups[-1][0] != fig.group:
            groups.append((fig.group, []))
        groups[-1][1].append(fig)
    return groups


def write_html(path, title, facts, notes, groups, table, archive, dpi):
    h = html.escape
    out = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>", f"<title>{h(title)}</title>",
           f"<style>{STYLE}</style></head><body>", f"<h1>{h(title)}</h1>", "<table>"]
    out += [f"<tr><th>{h(k)}</th><td>{h(str(v))}</td></tr>" for k, v in facts]
    out.append("</table>")
    if notes:
        out.append("<h2>Notes</h2><ul>" + "".join(f"<li>{h(n)}</li>" for n in notes) + "</ul>")
    out.append("<h2>Contents</h2><ul>")
    for gi, (g, figs) in enumerate(groups):
        out.append(f"<li><a href='#g{gi}'>{h(g)}</a>: " + ", ".join(h(f.name) for f in figs) + "</li>")
    out.append("<li><a href='#summary'>Summary table</a></li></ul>")
    for gi, (g, figs) in enumerate(groups):
        out.append(f"<h2 id='g{gi}'>{h(g)}</h2>")
        for f in figs:
            out.append(f"<figure id='{h(f.name)}'><a href='{h(f.name)}'><img src='{h(f.name)}' alt='{h(f.title)}'></a>"
                       f"<figcaption><b>{h(f.name)}</b> — {h(f.title)}. {h(f.caption)}</figcaption></figure>")
    header, rows = table
    out.append("<h2 id='summary'>Summary table</h2><table><tr>" + "".join(f"<th>{h(c)}</th>" for c in header) + "</tr>")
    out += [f"<tr class='{h(row[3])}'>" + "".join(f"<td>{h(str(c))}</td>" for c in row) + "</tr>" for row in rows]
    out.append("</table>")
    if archive.analysis_options:
        out.append(f"<details><summary>Analysis options ({h(archive.analysis_hash)})</summary>"
                   f"<pre>{h(archive.analysis_options)}</pre></details>")
    if archive.config_text:
        out.append(f"<details><summary>Study config</summary><pre>{h(archive.config_text)}</pre></details>")
    out.append(f"<p><small>Written by analysis/report.py (dpi {dpi}).</small></p></body></html>")
    write_text(path, "\n".join(out) + "\n")


def write_text(path, content):
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(content)
    write_file(path, write)


def write_markdown(path, title, facts, notes, groups, table):
    md = [f"# {title}", ""] + [f"- **{k}**: {v}" for k, v in facts]
    if notes:
        md += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    for g, figs in groups:
        md += ["", f"## {g}", ""]
        for f in figs:
            md += [f"![{f.title}]({f.name})", "", f"*{f.name}* — {f.title}. {f.caption}", ""]
    header, rows = table
    md += ["", "## Summary table", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    write_text(path, "\n".join(md) + "\n")


def write_index(canvas, archive, sections, outdir, dpi):
    title = f"aesweep report — {os.path.basename(archive.path)}"
    facts = index_facts(archive, sections)
    notes = index_notes(canvas, archive, sections)
    groups = figure_groups(canvas)
    table = summary_rows(archive, sections)
    write_html(os.path.join(outdir, "index.html"), title, facts, notes, groups, table, archive, dpi)
    write_markdown(os.path.join(outdir, "index.md"), title, facts, notes, groups, table)
