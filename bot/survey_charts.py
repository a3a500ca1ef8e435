"""The distribution of a survey's closed questions, one horizontal bar panel per question,
the sides of a joint evaluation side by side (matplotlib's Agg backend, as `bot.charts`).

Read on paper as well as on a phone: the questionnaire's title on top; each bar says its count
and its share of the people of that side who answered the question (the sides differ in size,
so counts alone mislead; several answers per person make shares add up to more than 100 %);
the legend names each side with that number (n) and stays above the bars; the choices are set
apart by a gap and a thin rule, so that bars of different answers are not read as pairs.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from babel import Locale
from babel.numbers import format_percent

from bot.charts import DPI, MAX_PANELS, WIDTH_INCHES, format_locale, png
from bot.core.ports import Distribution

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = ("#1f6f8b", "#e07a1f", "#6a994e")
# title, choice labels, series: (side, count per choice[, people who answered: the share's base])
Panel = Distribution
GROUP_WIDTH = 0.7  # of each choice's slot: the rest is the gap between choices


def distribution_chart(panels: Sequence[Panel], groups: Sequence[str], language: str,
                       title: str = "") -> bytes:
    """Draw the answers' counts (and shares) per choice and return a PNG."""
    return png(distribution_figure(panels, groups, language, title))


def distribution_figure(panels: Sequence[Panel], groups: Sequence[str], language: str,
                        title: str = "") -> Figure:
    """The chart of `distribution_chart`, before encoding (tests read its texts)."""
    # Imported on first use: matplotlib (numpy, PIL) weighs tens of MiB, needed only here.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    locale = Locale.parse(format_locale(language))
    shown = list(panels)[:MAX_PANELS]
    heights = [1.1 + 0.34 * max(1, len(labels)) * max(1, len(groups))
               for _t, labels, _s in shown]
    figure = Figure(figsize=(WIDTH_INCHES, 0.6 + sum(heights)), dpi=DPI)
    FigureCanvasAgg(figure)
    if title:
        figure.suptitle("\n".join(textwrap.wrap(title, 50)[:2]), fontsize=13,
                        fontweight="bold")
    axes_list = figure.subplots(len(shown), 1, squeeze=False,
                                gridspec_kw={"height_ratios": heights})[:, 0]
    for axes, (question, labels, series) in zip(axes_list, shown, strict=True):
        axes.set_title("\n".join(textwrap.wrap(question, 60)[:2]), fontsize=11, loc="left",
                       pad=18 if len(series) > 1 else 6)
        count = max(1, len(series))
        width = GROUP_WIDTH / count
        positions = list(range(len(labels)))
        highest = max((v for side in series for v in side[1]), default=0)
        for index, side in enumerate(series):
            name, values = side[0], side[1]
            total = side[2] if len(side) > 2 else sum(values)
            offsets = [p - GROUP_WIDTH / 2 + width * (index + 0.5) for p in positions]
            label = f"{name} (n = {total})" if name else None
            axes.barh(offsets, list(values), height=width * 0.92, label=label,
                      color=COLOURS[index % len(COLOURS)])
            for y, value in zip(offsets, values, strict=True):
                if value:
                    share = format_percent(value / total, locale=locale) if total else ""
                    axes.annotate(f"{value} ({share})", (value, y), xytext=(3, 0),
                                  textcoords="offset points", va="center", fontsize=8)
        for boundary in positions[1:]:
            axes.axhline(boundary - 0.5, color="#dddddd", linewidth=0.8)
        axes.set_yticks(positions, [textwrap.shorten(label, 28, placeholder="…")
                                    for label in labels], fontsize=9)
        axes.set_ylim(len(labels) - 0.5, -0.5)  # the first choice on top
        axes.set_xlim(0, max(1, highest) * 1.35)  # room for "12 (60 %)" beside the bar
        axes.spines[["top", "right"]].set_visible(False)
        axes.xaxis.get_major_locator().set_params(integer=True)
        if len(series) > 1:
            # Above the bars, never over them.
            axes.legend(fontsize=8, frameon=False, loc="lower left", ncols=len(series),
                        bbox_to_anchor=(0, 1.0), borderaxespad=0.2)
    figure.tight_layout()
    return figure
