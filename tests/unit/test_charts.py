"""What the charts say, read from the figures before they are encoded."""

from __future__ import annotations

from datetime import date

from matplotlib.figure import Figure

from bot.charts import ChartTexts, Panel, progress_figure
from bot.survey_charts import distribution_figure

TEXTS = ChartTexts(title="Eau", target="Cible", no_data="Pas encore de valeur")
MONTHS = [date(2026, m, 25) for m in (1, 2, 3)]


def _texts(figure: Figure) -> list[str]:
    figure.canvas.draw()
    found = [t.get_text() for t in figure.texts]
    for axes in figure.axes:
        found += [axes.get_title(loc="left")]
        found += [t.get_text() for t in axes.get_xticklabels() + axes.get_yticklabels()]
        found += [t.get_text() for t in axes.texts]
        legend = axes.get_legend()
        if legend is not None:
            found += [t.get_text() for t in legend.get_texts()]
    return found


def test_every_indicator_gets_a_panel() -> None:
    panels = [Panel(f"Indicateur {n}", [(MONTHS[0], 1.0)]) for n in range(7)]
    figure = progress_figure(panels, TEXTS, "fr")
    assert len(figure.axes) == 7  # the 7th is not dropped


def test_axes_read_as_the_indicator_type_and_the_months_with_their_year() -> None:
    integer = Panel("Puits", [(d, v) for d, v in zip(MONTHS, (1.0, 2.0, 3.0), strict=True)],
                    target=5, kind="integer")
    percent = Panel("Taux", [(d, v) for d, v in zip(MONTHS, (20.0, 35.5, 40.0), strict=True)],
                    target=50, kind="percent")
    figure = progress_figure([integer, percent], TEXTS, "fr")
    figure.canvas.draw()
    whole, share = figure.axes
    assert all("," not in t.get_text() for t in whole.get_yticklabels())  # never 2,5 wells
    assert all(t.get_text().endswith("%") for t in share.get_yticklabels() if t.get_text())
    assert [t.get_text() for t in whole.get_xticklabels()] == ["janv. 2026", "févr. 2026",
                                                               "mars 2026"]
    assert "Cible\u00a0: 50\u00a0%" in _texts(figure) or "Cible: 50\u00a0%" in _texts(figure)


def test_survey_bars_say_counts_shares_and_sides_with_their_size() -> None:
    panel = ("La coopération est-elle utile ?", ["Oui", "Non"],
             [("Collectivité", [1, 1]), ("Partenaires", [6, 2])])
    figure = distribution_figure([panel], ["Collectivité", "Partenaires"], "fr",
                                 title="Évaluation conjointe 2026")
    texts = _texts(figure)
    assert "Évaluation conjointe 2026" in texts
    assert "Collectivité (n = 2)" in texts and "Partenaires (n = 8)" in texts
    assert "6 (75\u00a0%)" in texts and "1 (50\u00a0%)" in texts
    axes = figure.axes[0]
    legend = axes.get_legend()
    assert legend is not None
    # The legend sits above the plotting area, not over the bars.
    figure.canvas.draw()
    box = legend.get_window_extent()
    assert box.y0 >= axes.get_window_extent().y1 - 1
