"""Charts of indicator progress, drawn with matplotlib's Agg backend (no screen, thread-safe
through the object API: no pyplot state is shared between threads)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal, format_percent

from bot.core.ports import ChartTexts, Panel
from bot.i18n import FORMAT_LOCALES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Readable on a phone: about 1,000 pixels wide, large type, one small panel per indicator.
WIDTH_INCHES = 6.4
PANEL_INCHES = 2.3
DPI = 160
MAX_PANELS = 12  # a taller picture rather than an indicator silently left out


def format_locale(language: str) -> str:
    """The locale whose number and date formats a language's readers get (as bot.i18n)."""
    return FORMAT_LOCALES.get(language, language)


def progress_chart(panels: Sequence[Panel], texts: ChartTexts, language: str) -> bytes:
    """Draw one panel per indicator (values over periods, target dashed) and return a PNG."""
    return png(progress_figure(panels, texts, language))


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def progress_figure(panels: Sequence[Panel], texts: ChartTexts, language: str) -> Figure:
    """The chart of `progress_chart`, before encoding (tests read its texts)."""
    # Imported on first use: matplotlib (numpy, PIL) weighs tens of MiB, needed only here.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    locale = Locale.parse(format_locale(language))
    shown = list(panels)[:MAX_PANELS] or [Panel(texts.no_data, ())]
    figure = Figure(figsize=(WIDTH_INCHES, 0.9 + PANEL_INCHES * len(shown)), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.suptitle(texts.title, fontsize=15, fontweight="bold")
    axes_list = figure.subplots(len(shown), 1, squeeze=False)[:, 0]
    for axes, panel in zip(axes_list, shown, strict=True):
        def value_text(value: float, panel: Panel = panel) -> str:
            if panel.kind == "percent":
                return format_percent(round(value, 1) / 100, locale=locale,
                                      decimal_quantization=False)
            return format_decimal(round(value, 2), locale=locale)

        axes.set_title(panel.title, fontsize=12, loc="left")
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _p, f=value_text: f(v)))
        if panel.kind in ("integer", "percent"):
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", alpha=0.3)
        axes.spines[["top", "right"]].set_visible(False)
        if panel.points:
            xs = list(range(len(panel.points)))
            ys = [value for _day, value in panel.points]
            axes.plot(xs, ys, marker="o", linewidth=2.2, markersize=6, color="#1f6f8b")
            # "mars 2026", never "mars 26" (read as the 26th).
            axes.set_xticks(xs, [format_skeleton("yMMM", day, locale=locale)
                                 for day, _value in panel.points], fontsize=8,
                            rotation=30 if len(xs) > 4 else 0)
            axes.annotate(value_text(ys[-1]), (xs[-1], ys[-1]),
                          textcoords="offset points", xytext=(0, 7), ha="center", fontsize=10)
            if len(xs) == 1:
                axes.set_xlim(-1, 1)
        else:
            axes.text(0.5, 0.5, texts.no_data, ha="center", va="center",
                      transform=axes.transAxes, fontsize=11, color="#777777")
            axes.set_xticks([])
        if panel.target is not None:
            axes.axhline(panel.target, linestyle="--", color="#c0392b", linewidth=1.5,
                         label=f"{texts.target}: {value_text(panel.target)}")
            # Lower right: progress rises to the right, so that corner is free of data.
            axes.legend(loc="lower right", fontsize=9, frameon=False)
        highest = max([value for _day, value in panel.points]
                      + ([panel.target] if panel.target is not None else []), default=0.0)
        axes.set_ylim(bottom=0, top=(highest * 1.18) or 1.0)  # room for the value's label
        axes.tick_params(axis="y", labelsize=9)
    figure.tight_layout()
    return figure
