"""The distribution of a survey's closed questions, one horizontal bar panel per question,
the sides of a joint evaluation side by side (matplotlib's Agg backend, as `bot.charts`)."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

from bot.charts import DPI, MAX_PANELS, WIDTH_INCHES

COLOURS = ("#1f6f8b", "#e07a1f", "#6a994e")
Panel = tuple[str, Sequence[str], Sequence[tuple[str, Sequence[int]]]]  # title, labels, series


def distribution_chart(panels: Sequence[Panel], groups: Sequence[str], language: str) -> bytes:
    """Draw the answers' counts per choice and return a PNG."""
    # Imported on first use: matplotlib (numpy, PIL) weighs tens of MiB, needed only here.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    shown = list(panels)[:MAX_PANELS]
    heights = [0.8 + 0.32 * max(1, len(labels)) * max(1, len(groups))
               for _t, labels, _s in shown]
    figure = Figure(figsize=(WIDTH_INCHES, 0.4 + sum(heights)), dpi=DPI)
    FigureCanvasAgg(figure)
    axes_list = figure.subplots(len(shown), 1, squeeze=False,
                                gridspec_kw={"height_ratios": heights})[:, 0]
    for axes, (title, labels, series) in zip(axes_list, shown, strict=True):
        axes.set_title("\n".join(textwrap.wrap(title, 60)[:2]), fontsize=11, loc="left")
        count = max(1, len(series))
        width = 0.8 / count
        positions = list(range(len(labels)))
        for index, (name, values) in enumerate(series):
            offsets = [p - 0.4 + width * (index + 0.5) for p in positions]
            axes.barh(offsets, list(values), height=width, label=name,
                      color=COLOURS[index % len(COLOURS)])
            for y, value in zip(offsets, values, strict=True):
                if value:
                    axes.annotate(str(value), (value, y), xytext=(3, 0),
                                  textcoords="offset points", va="center", fontsize=8)
        axes.set_yticks(positions, [textwrap.shorten(label, 28, placeholder="…")
                                    for label in labels], fontsize=9)
        axes.invert_yaxis()
        axes.spines[["top", "right"]].set_visible(False)
        axes.xaxis.get_major_locator().set_params(integer=True)
        if len(series) > 1:
            axes.legend(fontsize=8, frameon=False, loc="lower right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
