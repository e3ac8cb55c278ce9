"""The explorer's page (``latentkit explore``): one Bokeh document per browser tab, its
callbacks in Python against the run opened once (``analysis.explore.Explorer``).

The page: the t-SNE map and a plane (any two principal components or attribute directions),
each over the data's density with the faces of a few points; the face at the current z-point
with its re-encoding distance and its distance to the nearest real latent; sliders along
directions; and the walk from the point before to the current one, decoded as a strip. A click
on the plane decodes the point under it (``with_coordinates``: the plane's two coordinates set,
every other direction held at the data's mean or at the current point); a click on the t-SNE
map, where no inverse exists, goes to the nearest real latent and shows the nearest real images
beside their decodings. Slider moves are coalesced (one decode per ``DEBOUNCE_MS`` at most, the
latest position wins), so the face follows a drag.

Every picture is a PNG data: URL in a Div, and each face carries the z-point it was decoded
from (``data-z``, JSON), so what the page shows can be checked against the model.
"""

from __future__ import annotations

import base64
import io
import json
from functools import partial
from typing import Any

import numpy as np

from latentkit.analysis.measures.planes import plane_coordinates, with_coordinates
from latentkit.analysis.report.page import thumbnail_url

DEBOUNCE_MS = 40  # slider moves within this window are one decode
SIDE = 440  # pixels per side of each map
FACE = 192  # pixels per side of the face shown
BINS = 80  # cells per side of a density
DENSITY = (
    "#ffffff",
    "#e6e6e6",
    "#cccccc",
    "#b3b3b3",
    "#999999",
    "#808080",
    "#666666",
    "#4d4d4d",
    "#333333",
)  # white: none


def png_url(image: np.ndarray) -> str:
    """An image (floats in [0, 1], H x W x C) as a lossless PNG data: URL, pixels rounded to 1/255."""
    from PIL import Image

    pixels = np.clip(np.rint(np.asarray(image, np.float64) * 255), 0, 255).astype(np.uint8)
    pixels = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _z_json(z: np.ndarray) -> str:
    """A z-point as JSON, each float32 value exactly (a float64 repr round-trips it)."""
    return json.dumps([float(v) for v in np.asarray(z, np.float32)])


def _ratio_colour(ratio: float) -> str:
    """Pale at the data's own scale, dark far from it (as the lattice's frames)."""
    from bokeh.palettes import Magma256

    return Magma256[::-1][int(np.clip(ratio / 5.0, 0, 1) * 255)]


def face_html(decoded: Any, source: str, explorer: Any) -> str:
    """The current face, its z-point (``data-z``) and its two distances in the data's units."""
    return (
        f'<img id="lk-face" src="{png_url(decoded.image)}" data-z=\'{_z_json(decoded.z)}\' '
        f'data-reencoding="{decoded.reencoding:.6g}" data-nearest="{decoded.nearest:.6g}" '
        f'width="{FACE}" height="{FACE}" style="image-rendering:pixelated;border:6px solid '
        f'{_ratio_colour(decoded.reencoding_ratio)}">'
        f'<div style="width:{FACE + 120}px;font-size:12px"><b>{source}</b><br>'
        f"re-encoding distance ||E(D(z)) - z|| {decoded.reencoding:.3g}: "
        f"<b>{decoded.reencoding_ratio:.2f}x</b> the data's own median ({explorer.reencoding_median:.3g}, "
        f"{explorer.reencoding_source})<br>"
        f"nearest real latent {decoded.nearest:.3g} away: <b>{decoded.nearest_ratio:.2f}x</b> the data's "
        f"median nearest-neighbour distance ({explorer.nn_median:.3g}, {len(explorer.sample):,} latents)</div>"
    )


def strip_html(steps: list[Any], start: str, stop: str) -> str:
    """The walk's decoded steps, each framed and captioned by its re-encoding distance."""
    cells = "".join(
        f'<figure style="display:inline-block;margin:2px;text-align:center">'
        f'<img class="lk-step" src="{png_url(d.image)}" data-z=\'{_z_json(d.z)}\' '
        f'data-reencoding-ratio="{d.reencoding_ratio:.6g}" width="80" height="80" '
        f'style="image-rendering:pixelated;border:4px solid {_ratio_colour(d.reencoding_ratio)}">'
        f'<figcaption style="font-size:11px">{d.reencoding_ratio:.2f}x</figcaption></figure>'
        for d in steps
    )
    worst = max(steps, key=lambda d: d.reencoding_ratio)
    return (
        f'<div id="lk-strip" data-steps="{len(steps)}"><b>The walk from {start} to {stop}</b> '
        f"(under each step: its re-encoding distance in the data's own medians; the worst "
        f"{worst.reencoding_ratio:.2f}x: a dark frame is a step through a hole)<br>{cells}</div>"
    )


def _density(points: np.ndarray) -> dict[str, Any]:
    """A 2-D histogram of ``points`` as an image glyph's data (square-rooted counts), and its window."""
    low, high = np.quantile(points, 0.002, axis=0), np.quantile(points, 0.998, axis=0)
    pad = 0.15 * (high - low) + 1e-9
    low, high = low - pad, high + pad
    counts, _, _ = np.histogram2d(points[:, 0], points[:, 1], bins=BINS, range=[[low[0], high[0]], [low[1], high[1]]])
    return {
        "image": [np.sqrt(counts.T)],
        "x": [low[0]],
        "y": [low[1]],
        "dw": [high[0] - low[0]],
        "dh": [high[1] - low[1]],
    }


class ExplorerSession:
    """One browser tab: its current point, the point before it, its plane and its widgets."""

    def __init__(self, doc: Any, explorer: Any) -> None:
        self.doc, self.x = doc, explorer
        self.current = np.asarray(explorer.mean, np.float64)
        self.previous: np.ndarray | None = None
        self.previous_name, self.current_name = "", "the data's mean"
        self.pending: dict[str, float] = {}
        self.flushing, self.syncing = False, False
        self.axes = explorer.plane("PC0", "PC1") if explorer.dim > 1 else None
        doc.title = f"latentkit explore: {explorer.root.name}"
        doc.add_root(self._layout())
        self.show(explorer.decode(self.current)[0], self.current_name)

    # -- the page -----------------------------------------------------------------------

    def _layout(self) -> Any:
        from bokeh.layouts import column, row
        from bokeh.models.widgets import Div, RadioButtonGroup, Select

        x = self.x
        self.face = Div(text="", name="face", width=FACE + 140)
        self.neighbours = Div(text="", name="neighbours", width=FACE + 140)
        self.strip = Div(
            text="<i>Click two points (on the plane, or real images on the t-SNE map): the walk between them "
            "appears here.</i>",
            name="strip",
            width=1100,
        )
        self.rest = RadioButtonGroup(labels=["the data's mean", "the current point"], active=0, name="rest")
        head = Div(
            text=f"<h2>latentkit explore</h2><code>{x.root}</code>: {'a VAE' if x.kind == 'vae' else 'an AE'} "
            f"with {x.dim} latent "
            f"dimensions. Click on the plane to decode the point there; click on the t-SNE map to go to the "
            f"nearest real image; drag a slider; every two points picked draw the walk between them.",
            width=1100,
        )
        self.select_x = Select(title="plane: x", value="PC0", options=x.plane_choices, name="plane-x", width=140)
        self.select_y = Select(title="y", value="PC1", options=x.plane_choices, name="plane-y", width=140)
        for select in (self.select_x, self.select_y):
            select.on_change("value", lambda attr, old, new: self._new_plane())
        plane = self._plane_figure()
        maps = [self._tsne_figure(), column(row(self.select_x, self.select_y), plane)]
        beside = column(self.face, Div(text="hold the other directions of a click at:"), self.rest, self.neighbours)
        return column(head, row(*maps, beside), row(*self._sliders()), self.strip)

    def _figure(self, title: str, name: str) -> Any:
        from bokeh.plotting import figure

        return figure(
            width=SIDE,
            height=SIDE,
            title=title,
            name=name,
            tools="pan,wheel_zoom,reset",
            active_scroll="wheel_zoom",
            match_aspect=True,
        )

    def _tsne_figure(self) -> Any:
        from bokeh.events import Tap
        from bokeh.models import ColumnDataSource

        x = self.x
        plot = self._figure("t-SNE map (click: the nearest real images)", "tsne")
        if x.tsne is None:
            plot.title.text = "no t-SNE map in this analysis (latentkit analyze makes one unless --no-tsne)"
            return plot
        density = ColumnDataSource(_density(x.tsne))
        plot.image(source=density, image="image", x="x", y="y", dw="dw", dh="dh", palette=DENSITY)
        take = np.linspace(0, len(x.tsne) - 1, min(len(x.tsne), len(x.faces))).astype(int)
        side = float(np.ptp(x.tsne, axis=0).max()) / 14
        faces = {
            "x": x.tsne[take, 0].tolist(),
            "y": x.tsne[take, 1].tolist(),
            "url": [thumbnail_url(im) for im in x.pictures(x.tsne_rows[take])],
        }
        plot.image_url(url="url", x="x", y="y", w=side, h=side, anchor="center", source=ColumnDataSource(faces))
        self.picked = ColumnDataSource({"x": [], "y": []}, name="tsne-picked")
        plot.scatter("x", "y", source=self.picked, size=12, fill_color=None, line_color="red", line_width=2)
        plot.on_event(Tap, lambda event: self.tsne_click(event.x, event.y))
        return plot

    def _plane_figure(self) -> Any:
        from bokeh.events import Tap
        from bokeh.models import ColumnDataSource

        plot = self._figure("", "plane")
        self.plane_plot = plot
        self.density = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []}, name="plane-density")
        plot.image(source=self.density, image="image", x="x", y="y", dw="dw", dh="dh", palette=DENSITY)
        self.plane_faces = ColumnDataSource({"x": [], "y": [], "url": [], "w": []}, name="plane-faces")
        plot.image_url(url="url", x="x", y="y", w="w", h="w", anchor="center", source=self.plane_faces)
        self.marks = ColumnDataSource({"x": [], "y": [], "colour": []}, name="plane-marks")
        plot.scatter("x", "y", source=self.marks, size=12, fill_color=None, line_color="colour", line_width=2)
        plot.on_event(Tap, lambda event: self.plane_click(event.x, event.y))
        self.face_urls = [thumbnail_url(im) for im in self.x.pictures(self.x.sample_rows[self.x.faces])]
        self._new_plane()
        return plot

    def _sliders(self) -> list[Any]:
        from bokeh.layouts import column
        from bokeh.models.widgets import Div, Slider

        self.sliders: dict[str, Any] = {}
        groups = []
        for title, labels in self.x.families.items():
            widgets: list[Any] = [Div(text=f"<b>{title}</b> (in the data's standard deviations)")]
            for label in labels:
                slider = Slider(start=-3, end=3, value=0, step=0.05, title=label, width=300, name=f"slider-{label}")
                slider.on_change("value", partial(self._slid, label))
                self.sliders[label] = slider
                widgets.append(slider)
            groups.append(column(*widgets))
        return groups

    # -- what a person does -------------------------------------------------------------

    def plane_click(self, a: float, b: float) -> None:
        """Decode the point of the plane under the click: its two coordinates set, every
        other direction held at the data's mean or at the current point."""
        if self.axes is None:
            return
        rest = self.x.mean if self.rest.active == 0 else self.current
        z = with_coordinates(rest, self.x.mean, self.axes, np.array([a, b]))
        self.visit(z, f"the click at {self.select_x.value} {a:.3g}, {self.select_y.value} {b:.3g}")

    def tsne_click(self, a: float, b: float) -> None:
        """Go to the real latent nearest the click on the t-SNE map; show the nearest real
        images beside their decodings."""
        x = self.x
        near = x.tsne_nearest(a, b)
        self.picked.data = {"x": x.tsne[near, 0].tolist(), "y": x.tsne[near, 1].tolist()}
        decoded = x.decode(x.tsne_z[near])
        images = x.pictures(x.tsne_rows[near])
        self.neighbours.text = "<b>nearest real images (left) and their decodings</b><br>" + "".join(
            f'<span style="display:inline-block;text-align:center;font-size:11px;margin:2px">'
            f'<img class="lk-real" src="{png_url(im / 255.0)}" width="64" style="image-rendering:pixelated">'
            f'<img class="lk-decoded" src="{png_url(d.image)}" width="64" style="image-rendering:pixelated">'
            f"<br>row {row}</span>"
            for row, im, d in zip(x.tsne_rows[near], images, decoded)
        )
        self.visit(decoded[0].z.astype(np.float64), f"row {x.tsne_rows[near[0]]} (real)", decoded[0])

    def visit(self, z: np.ndarray, name: str, decoded: Any = None) -> None:
        """A point picked: show its face now, then the walk from the point before (next tick,
        so the face is not kept waiting)."""
        self.previous, self.previous_name = self.current, self.current_name
        self.current, self.current_name = np.asarray(z, np.float64), name
        self.show(decoded or self.x.decode(self.current)[0], name)
        start, stop, names = self.previous, self.current, (self.previous_name, self.current_name)
        self.doc.add_next_tick_callback(lambda: self._walk(start, stop, names))

    def _walk(self, start: np.ndarray, stop: np.ndarray, names: tuple[str, str]) -> None:
        self.strip.text = strip_html(self.x.walk(start, stop), *names)

    def _slid(self, label: str, attr: str, old: float, new: float) -> None:
        self.slide(label, new)

    def slide(self, label: str, value: float) -> None:
        """A slider moved: the latest value of each moved slider is decoded at the end of a
        ``DEBOUNCE_MS`` window (values set by the page itself are ignored)."""
        if self.syncing:
            return
        self.pending[label] = float(value)
        if not self.flushing:
            self.flushing = True
            self.doc.add_timeout_callback(self._flush, DEBOUNCE_MS)

    def _flush(self) -> None:
        self.flushing = False
        moved, self.pending = self.pending, {}
        z = self.current
        for label, value in moved.items():
            u = self.x.directions[label]
            z = with_coordinates(z, self.x.mean, u[None], np.array([value * self.x.sd(label)]))
        self.current = z
        self.current_name = ", ".join(f"{label} {value:+.2f} sd" for label, value in moved.items())
        self.show(self.x.decode(z)[0], f"moved along {self.current_name}", skip=set(moved))

    def show(self, decoded: Any, name: str, skip: frozenset[str] | set[str] = frozenset()) -> None:
        """The face and its numbers; the plane's marks; every slider but ``skip`` at the point."""
        self.face.text = face_html(decoded, name, self.x)
        self._mark()
        self.syncing = True
        try:
            for label, slider in self.sliders.items():
                if label not in skip:
                    u = self.x.directions[label]
                    value = float(plane_coordinates(self.current, self.x.mean, u[None])[0]) / self.x.sd(label)
                    slider.value = float(np.clip(round(value, 2), slider.start, slider.end))
        finally:
            self.syncing = False

    def _new_plane(self) -> None:
        """The plane's axes chosen: its density, its faces and its marks redrawn."""
        from latentkit.core import LatentkitError

        x = self.x
        try:
            self.axes = x.plane(self.select_x.value, self.select_y.value)
        except LatentkitError as error:  # the same direction twice, or parallel attributes
            self.plane_plot.title.text = str(error)
            return
        points = plane_coordinates(x.sample, x.mean, self.axes)
        self.density.data = _density(points)
        side = float(np.ptp(points, axis=0).max()) / 14
        faces = points[x.faces]
        self.plane_faces.data = {
            "x": faces[:, 0].tolist(),
            "y": faces[:, 1].tolist(),
            "url": self.face_urls,
            "w": [side] * len(faces),
        }
        self.plane_plot.title.text = f"the plane {self.select_x.value}-{self.select_y.value} through the data's mean"
        self.plane_plot.xaxis.axis_label = self.select_x.value
        self.plane_plot.yaxis.axis_label = self.select_y.value + (
            " (made orthogonal to x)" if not self.select_y.value.startswith("PC") else ""
        )
        self._mark()

    def _mark(self) -> None:
        if self.axes is None or not hasattr(self, "marks"):
            return
        points = [p for p in (self.previous, self.current) if p is not None]
        at = plane_coordinates(np.array(points), self.x.mean, self.axes)
        colours = ["#1f77b4", "#d62728"][-len(points) :]
        self.marks.data = {"x": at[:, 0].tolist(), "y": at[:, 1].tolist(), "colour": colours}


def explorer_document(doc: Any, explorer: Any) -> None:
    """Bokeh's application function: one tab's page over the opened run."""
    ExplorerSession(doc, explorer)
