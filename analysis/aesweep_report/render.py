"""Which figures a report draws: the study overview and the Pareto front, then per section its grid, loss curves,
weights and reconstructions and, with analysis results, cosine, t-SNE and k-means figures."""
from .canvas import Canvas
from .cosine import cosine_class_figure, cosine_hist_figure
from .curves import loss_figure
from .grids import grid_figure
from .kmeans import kmeans_figure
from .overview import overview_figures
from .pareto import pareto_figure
from .recon import recon_figure
from .tsne import tsne_figure
from .weights import weights_figure


def render(archive, sections, outdir, dpi=150, units=0):
    """Draws every figure into outdir; the Canvas holds them (with captions) and the notes."""
    canvas = Canvas(archive, outdir, dpi, units)
    if not any(r.done for r in archive.runs):
        canvas.note("No finished run in the archive (or in --runs): no figures."
                    + (" Runs stopped by the schedule at an early rung are not drawn." if any(
                        r.stopped for r in archive.runs) else ""))
        return canvas
    overview_figures(canvas, sections)
    pareto_figure(canvas, sections)
    for sec in sections:
        section_figures(canvas, sec)
    return canvas


def section_figures(canvas, sec):
    group = f"Section '{sec.title}'"
    picks = sec.pick_runs()
    if not picks:
        canvas.note(f"Section '{sec.title}': no finished run, no per-run figures.")
        return
    grid_figure(canvas, sec, group)
    loss_figure(canvas, sec, group)
    weights_figure(canvas, sec, picks, group)
    recon_figure(canvas, sec, picks, group)
    analysis_hash = canvas.archive.analysis_hash
    if analysis_hash is None:
        return
    analysed = [r for r in sec.done_runs() if r.analysis is not None]
    if not analysed:
        canvas.note(f"Section '{sec.title}': no run analysed with {analysis_hash}; analysis figures skipped.")
        return
    apicks = [r for r in picks if r.analysis is not None] or sorted(analysed, key=sec.sort_key)[:3]
    cosine_hist_figure(canvas, sec, analysed, group)
    cosine_class_figure(canvas, sec, apicks, group)
    tsne_figure(canvas, sec, apicks, group)
    kmeans_figure(canvas, sec, analysed, group)
