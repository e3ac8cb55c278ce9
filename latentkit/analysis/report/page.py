"""``latentkit report``: RUN/analysis/report.html, one self-contained page (opens offline, from
Drive, in a browser or inline in a notebook) with the findings, every figure, the tables of
report.md and an interactive map of the cloud with its images.

The map is bokeh (a well-kept library that writes static HTML with its JavaScript inlined; the
page's own script is three short ``CustomJS`` callbacks): a t-SNE (openTSNE, of the map's
points) and the PC0-PC1 plane of ``points`` images, each a dot under its own thumbnail (sized
in the plot's units: zooming in shows the images, zooming out the dots); hover shows the image,
its reconstruction and its labels; a menu colours by partition, any attribute or synthetic
factor, a k-means cluster, the radius or the region test; lasso and box selections list the
chosen rows, which a button saves as ``rows.txt``. Points drawn from the fitted normal, the
mixture and a uniform b = 3 can be shown on both maps (placed in the t-SNE by openTSNE's
``transform``), with their decoded images on hover. About 17 MB at the default 3,000 points.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from latentkit.core import JobEvents, LatentkitError, RunPaths, write_text
from latentkit.model.opened import OpenedRun
from latentkit.store import get_array, noun, open_store, read_all
from latentkit.store.layout import PARTITIONS

THUMBNAIL = 32  # pixels per side of the images in the page
OVERLAY = 150  # points per generator drawn on the PCA plane
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def write_page(
    run: str | os.PathLike | OpenedRun,
    *,
    points: int = 3000,
    clusters: int = 10,
    seed: int = 0,
    events: JobEvents | None = None,
    labels: str | os.PathLike | None = None,
) -> Path:
    """Write RUN/analysis/report.html from the run's analysis, latents, store and model;
    ``labels``: a labels file (parquet or CSV, a row per image) whose columns colour the map too."""
    from latentkit.analysis.generators import LatentFit, make_generator
    from latentkit.analysis.report.files import read_report

    events, opened = events or JobEvents(), OpenedRun.of(run)
    run, paths, described = opened.root, opened.paths, opened.described
    report_path = paths.analysis_files.report
    if not report_path.exists():
        raise LatentkitError(f"{run} has no analysis ({report_path}): run `latentkit analyze --run {run}` first")
    if points < 10:
        raise LatentkitError(f"--points must be at least 10, got {points}")
    report = read_report(report_path)
    store = opened.data
    latents, data, what = open_store(paths.latents, holds="z"), open_store(store, holds="images"), noun(store)
    table = None
    if labels is not None:  # checked before any work
        from latentkit.store.vectors import read_labels

        table = read_labels(labels, get_array(latents, "z").shape[0])
    rng = np.random.default_rng(seed)
    usable = np.flatnonzero(read_all(latents, "ok").astype(bool) & read_all(data, "ok").astype(bool))
    rows = np.sort(rng.choice(usable, size=min(points, len(usable)), replace=False))
    events.start(f"report: {len(rows):,} {what} on the map", total=4)
    z = np.asarray(get_array(latents, "z").get_orthogonal_selection((rows,)), np.float64)
    images = np.asarray(get_array(data, "images").get_orthogonal_selection((rows,)))
    codec = opened.codec()
    if described.has_decoder:
        rebuilt = np.concatenate(
            [codec.reconstruct(images[i : i + 256].astype(np.float32) / 255.0) for i in range(0, len(images), 256)]
        )
    else:
        events.message(f"{run} has no decoder: the page shows no reconstructions and no generated {what}")
    events.advance()
    fit = LatentFit.load(paths.analysis_files.fit)
    drawn = {}
    for name, method, params in (
        ("fitted normal", "mvn", {}),
        ("mixture", "gmm", {}),
        ("uniform b=3", "uniform", {"b": 3.0}),
    ):
        if method != "gmm" or fit.mixture is not None:
            drawn[name] = make_generator(method, params).sample(rng, OVERLAY, fit)
    centre = z.mean(axis=0)
    _, _, axes = np.linalg.svd(z - centre, full_matrices=False)
    tsne, placed = _tsne(z - centre, axes, {name: points - centre for name, points in drawn.items()}, seed)
    events.advance()
    pcs = (z - centre) @ axes[:2].T
    source = {
        "row": rows.tolist(),
        "tsne_x": tsne[:, 0].tolist(),
        "tsne_y": tsne[:, 1].tolist(),
        "pc_x": pcs[:, 0].tolist(),
        "pc_y": pcs[:, 1].tolist(),
        "thumb": [thumbnail_url(im) for im in images],
    }
    if described.has_decoder:
        source["recon"] = [thumbnail_url(im) for im in rebuilt]
    own = {name: values[rows] for name, values in table.columns.items()} if table else None
    colourings, hover_labels = _colourings(data, rows, z, fit, clusters, seed, own)
    for i, (_, colours) in enumerate(colourings):
        source[f"c{i}"] = colours
    source["labels"] = hover_labels
    overlay = {}
    for name, points_drawn in drawn.items() if described.has_decoder else ():
        projected = (points_drawn - centre) @ axes[:2].T
        overlay[name] = {
            "pc_x": projected[:, 0].tolist(),
            "pc_y": projected[:, 1].tolist(),
            "tsne_x": placed[name][:, 0].tolist(),
            "tsne_y": placed[name][:, 1].tolist(),
            "face": [thumbnail_url(im) for im in codec.decode(points_drawn)],
        }
    events.advance()
    html = _html(paths, report, source, colourings, overlay)
    out = paths.analysis_files.page
    write_text(out, html)
    events.advance()
    events.finish()
    return out


def _tsne(centred: np.ndarray, axes: np.ndarray, others: dict[str, np.ndarray], seed: int):
    """openTSNE of the map's points (after PCA to at most 50 dimensions, as analyze does), and
    the generators' points placed in that same embedding with its ``transform``."""
    from openTSNE import TSNE

    from latentkit.core import usable_cpus

    keep = axes[: min(50, axes.shape[0])].T
    fitted = TSNE(
        n_components=2,
        perplexity=min(30.0, max(2.0, (len(centred) - 1) / 3.5)),
        random_state=seed,
        n_jobs=usable_cpus(),
        verbose=False,
    ).fit(np.ascontiguousarray(centred @ keep))
    if not others:
        return np.asarray(fitted), {}
    # one transform for every generator's points: each is placed against the map's points alone,
    # so this equals a call per generator (to the bit) in 0.6-0.8 of the time
    joint = np.asarray(fitted.transform(np.ascontiguousarray(np.concatenate(list(others.values())) @ keep)))
    ends = np.cumsum([len(points) for points in others.values()])[:-1]
    return np.asarray(fitted), dict(zip(others, np.split(joint, ends)))


def thumbnail_url(image: np.ndarray) -> str:
    """An image (uint8, or floats in [0, 1]) as a THUMBNAIL-pixel JPEG data: URL (the map's faces)."""
    from PIL import Image

    pixels = image if image.dtype == np.uint8 else np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)
    pixels = pixels[..., 0] if pixels.ndim == 3 and pixels.shape[-1] == 1 else pixels  # grey
    buffer = io.BytesIO()
    Image.fromarray(pixels).resize((THUMBNAIL, THUMBNAIL), Image.Resampling.BILINEAR).save(buffer, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _colourings(data, rows, z, fit, clusters, seed, own=None) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """(name, a colour per point) for each way to colour the map, and each point's labels in words;
    ``own``: a labels file's columns for these rows."""
    from sklearn.cluster import MiniBatchKMeans

    names = {v: k for k, v in PARTITIONS.items()}
    partition = [names.get(int(v), "none") for v in data["partition"].get_orthogonal_selection((rows,))]
    kinds = sorted(set(partition))
    out = [("partition", [PALETTE[kinds.index(p) % 10] for p in partition])]
    words = [[f"partition {p}"] for p in partition]
    cluster = MiniBatchKMeans(n_clusters=min(clusters, len(rows)), random_state=seed, n_init=3).fit_predict(z)
    out.append((f"k-means cluster (k={min(clusters, len(rows))})", [PALETTE[c % 10] for c in cluster]))
    radius = np.linalg.norm(z, axis=1)
    out.append(("radius", _ramp(radius)))
    if fit is not None:
        inside = (np.abs(z - fit.centre) / fit.fwhm).max(axis=1) <= 1.5
        out.append(("region (k=1.5): in / out", ["#2ca02c" if i else "#d62728" for i in inside]))
    for i, w in enumerate(words):
        w.append(f"cluster {cluster[i]}")
        w.append(f"radius {radius[i]:.2f}")
    for array, label_names in (("attributes", "attribute_names"), ("factors", "factor_names")):
        if array not in data:
            continue
        values = np.asarray(data[array].get_orthogonal_selection((rows,)))
        for j, label in enumerate(data.attrs.get(label_names) or [f"{array}_{j}" for j in range(values.shape[1])]):
            column = values[:, j]
            if values.dtype.kind == "f":
                out.append((label, _ramp(column)))
                for i, w in enumerate(words):
                    w.append(f"{label} {column[i]:+.2f}")
            else:
                out.append((label, ["#ff7f0e" if v > 0 else "#1f77b4" if v < 0 else "#cccccc" for v in column]))
                for i, w in enumerate(words):
                    if column[i] > 0:
                        w.append(label)
    for label, column in (own or {}).items():  # a labels file's columns, for these rows
        if column.dtype.kind in "biuf":
            out.append((label, _ramp(column.astype(np.float64))))
            text = [f"{label} {v:g}" for v in column.astype(np.float64)]
        else:
            kinds = sorted(set(map(str, column)))
            out.append((label, [PALETTE[kinds.index(str(v)) % 10] for v in column]))
            text = [f"{label} {v}" for v in column]
        for w, t in zip(words, text):
            w.append(t)
    return out, [", ".join(w) for w in words]


def _ramp(values: np.ndarray) -> list[str]:
    from bokeh.palettes import Viridis256

    low, high = np.nanpercentile(values, [2, 98])
    scaled = np.clip((values - low) / ((high - low) or 1.0), 0, 1)
    return [Viridis256[int(s * 255)] for s in np.nan_to_num(scaled)]


def _html(paths: RunPaths, report: dict, source: dict, colourings: list[tuple[str, list[str]]], overlay: dict) -> str:
    import markdown
    from bokeh.embed import file_html
    from bokeh.layouts import column, row
    from bokeh.models import BoxSelectTool, ColumnDataSource, CustomJS, HoverTool, LassoSelectTool, TabPanel, Tabs

    # bokeh.models re-exports these through a computed __all__, which mypy cannot follow
    from bokeh.models.widgets import Button, Div, Select, TextAreaInput
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    points = ColumnDataSource(source, name="points")
    faces = ColumnDataSource({k: source[k] for k in ("tsne_x", "tsne_y", "pc_x", "pc_y", "thumb")}, name="faces")
    rebuilt = '<img src="@recon" width="64" height="64">' if "recon" in source else ""
    tooltip = (
        f'<div style="width:150px"><img src="@thumb" width="64" height="64"> {rebuilt}'
        '<div style="font-size:10px">row @row: @labels</div></div>'
    )
    choices: list[str | tuple[Any, str]] = [(str(i), name) for i, (name, _) in enumerate(colourings)]
    menu = Select(title="colour by", value="0", options=choices)
    dots, panels = [], []
    for key, title in (
        ("tsne", "t-SNE of these points (openTSNE; generated points placed by its transform)"),
        ("pc", "PC0-PC1 of these points"),
    ):
        plot = figure(
            width=760,
            height=620,
            title=title,
            tools="pan,wheel_zoom,box_zoom,reset",
            match_aspect=True,
            active_scroll="wheel_zoom",
            output_backend="webgl",
        )
        x, y = np.asarray(source[f"{key}_x"]), np.asarray(source[f"{key}_y"])
        side = max(np.ptp(x), np.ptp(y)) / 60 or 1.0
        # The faces have their own source, never selected: bokeh's image_url fails on a selection.
        plot.image_url(url="thumb", x=f"{key}_x", y=f"{key}_y", w=side, h=side, anchor="center", source=faces)
        dot = plot.scatter(
            f"{key}_x",
            f"{key}_y",
            source=points,
            size=5,
            fill_color={"field": "c0"},
            line_color=None,
            fill_alpha=0.55,
            name=f"dots-{key}",
        )
        plot.add_tools(
            HoverTool(renderers=[dot], tooltips=tooltip),
            LassoSelectTool(renderers=[dot]),
            BoxSelectTool(renderers=[dot]),
        )
        for i, (name, drawn) in enumerate(overlay.items()):
            extra = plot.scatter(
                f"{key}_x",
                f"{key}_y",
                source=ColumnDataSource(drawn),
                marker="triangle",
                size=7,
                color=("#000000", "#2ca02c", "#d94801")[i % 3],
                legend_label=name,
            )
            extra.visible = False  # the legend shows them
            plot.add_tools(HoverTool(renderers=[extra], tooltips=f'<img src="@face" width="64"><div>{name}</div>'))
        if overlay:
            plot.legend.click_policy = "hide"
            plot.legend.title = "generated (click)"
        dots.append(dot)
        panels.append(TabPanel(child=plot, title=title))
    menu.js_on_change(
        "value",
        CustomJS(
            args={"dots": dots}, code="for (const d of dots) { d.glyph.fill_color = {field: 'c' + cb_obj.value} }"
        ),
    )
    chosen = TextAreaInput(title="selected rows (lasso or box)", rows=6, width=300, value="", name="chosen")
    points.selected.js_on_change(
        "indices",
        CustomJS(
            args={"points": points, "chosen": chosen},
            code=(
                "const rows = cb_obj.indices.map(i => points.data.row[i]).sort((a, b) => a - b);"
                "chosen.value = rows.length + ' rows: ' + rows.join(' ');"
            ),
        ),
    )
    save = Button(label="save the selected rows (rows.txt)", width=300)
    save.js_on_event(
        "button_click",
        CustomJS(
            args={"points": points},
            code=(
                "const rows = points.selected.indices.map(i => points.data.row[i]).sort((a, b) => a - b);"
                "const link = document.createElement('a');"
                "link.href = URL.createObjectURL(new Blob([rows.join('\\n') + '\\n'], {type: 'text/plain'}));"
                "link.download = 'rows.txt'; link.click();"
            ),
        ),
    )
    head = Div(
        text=f"<h1>Latent-space report</h1><p><code>{paths.root}</code>: {report['n']:,} points in "
        f"{report['dim']} dimensions; the map shows {len(source['row']):,} of them.</p>",
        width=1100,
    )
    findings = paths.findings
    beside = [menu, chosen, save]
    if (paths.analysis_files.lattice_picture).exists():  # decode anywhere (`latentkit lattice`), beside the map
        beside.append(
            Div(
                text="<h3>Decode anywhere: the PC0-PC1 lattice</h3><img style='max-width:520px' "
                f"src='data:image/png;base64,{base64.b64encode((paths.analysis_files.lattice_picture).read_bytes()).decode()}'>"
                "<p>Each cell decoded and encoded again; the darker its frame, the farther it came back: "
                "the holes.</p>",
                width=540,
            )
        )
    parts = [head, row(Tabs(tabs=panels), column(*beside))]
    if findings.exists():
        said = {True: "yes", False: "<b>no</b>", None: "inconclusive"}
        rows_html = "".join(
            f"<tr><td>{f['claim']}</td><td>{f['measured']}</td><td>{f.get('verdict') or said[f['holds']]}</td></tr>"
            for f in json.loads(findings.read_text(encoding="utf-8"))["findings"]
        )
        parts.append(
            Div(
                text="<h2>The studies' findings, and this run</h2><table border=1 cellpadding=4>"
                "<tr><th>the studies found</th><th>this run measured</th><th>holds</th></tr>"
                f"{rows_html}</table>",
                width=1100,
            )
        )
    figures = "".join(
        f'<h3>{name}</h3><img style="max-width:1100px" src="data:image/png;base64,'
        f'{base64.b64encode((paths.analysis / name).read_bytes()).decode()}">'
        for name in report.get("figures", [])
        if (paths.analysis / name).exists()
    )
    parts.append(Div(text="<h2>Figures</h2>" + figures, width=1100))
    tables = paths.analysis_files.markdown
    if tables.exists():
        parts.append(Div(text=markdown.markdown(tables.read_text(encoding="utf-8"), extensions=["tables"]), width=1100))
    return file_html(column(*parts), INLINE, title=f"latentkit report: {paths.root.name}")
