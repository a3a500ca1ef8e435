"""Importing questionnaires: XLSForm (through pyxform) and YAML become one definition; each
feature the conversation cannot run is refused, naming the sheet, row and column."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.core.surveys.forms import FormError, read_form, read_xlsform
from storage import Store

FORMS = Path(__file__).parent.parent / "forms"
HEADER = ("type", "name", "label", "required", "constraint", "relevant", "calculation")


def xlsform(path: Path, rows: Sequence[Sequence[object]],
            choices: Sequence[Sequence[object]] = (), header: Sequence[str] = HEADER) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    if choices:
        extra = book.create_sheet("choices")
        extra.append(["list_name", "name", "label"])
        for row in choices:
            extra.append(list(row))
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append(["Test", "test_form"])
    book.save(path)
    return path


@pytest.mark.parametrize(("rows", "header", "message"), [
    ([("integer", "age", "Age"), ("begin repeat", "people", "People"),
      ("begin_repeat", "kids", "Kids"), ("begin repeat", "toys", "Toys"),
      ("begin repeat", "parts", "Parts"), ("text", "who", "Who"), ("end repeat", "", ""),
      ("end repeat", "", ""), ("end repeat", "", ""), ("end_repeat", "", "")], HEADER,
     "sheet survey, row 6, column type: a repeat nested more than 3 deep is not supported"),
    ([("barcode", "code", "Code")], HEADER,
     "sheet survey, row 2, column type: type 'barcode' is not supported in a chat"),
    ([("integer", "age", "Age"), ("file", "report", "Report")], HEADER,
     "sheet survey, row 3, column type: type 'file' is not supported in a chat"),
    ([("integer", "age", "Age", "", "frobnicate(.) > 1")], HEADER,
     "sheet survey, row 2, column constraint: unsupported function frobnicate()"),
    ([("text", "code", "Code", "", "regex(., '(a')")], HEADER,
     "sheet survey, row 2, column constraint: invalid regular expression '(a'"),
    ([("text", "code", "Code", "", "regex(., '(a)\\1')")], HEADER,
     "sheet survey, row 2, column constraint: invalid regular expression"),
    ([("integer", "age", "Age"), ("text", "why", "Why", "", "", "${agee} > 3")], HEADER,
     # pyxform's own check, which names the row, the sheet and the column too
     "[row : 3] On the 'survey' sheet, the 'relevant' value is invalid"),
    ([("integer", "age", "Age"), ("calculate", "c", "", "", "", "", "${age} ** 2")], HEADER,
     "sheet survey, row 3, column calculation: unexpected"),
    ([("range", "score", "Score", "", "", "", "", "start=5 end=1 step=1")],
     (*HEADER, "parameters"), "sheet survey, row 2, column parameters: a range needs start < end"),
    ([("integer", "age", "Age"), ("integer", "age", "Age again")], HEADER, "age"),
    ([("text", "long", "x" * 4001)], HEADER,
     "sheet survey, row 2, column label: longer than 4000 characters"),
    ([("integer", "n", "N", "", "", "", "", "counter")], (*HEADER, "appearance"),
     "sheet survey, row 2, column appearance: appearance 'counter' is not supported"),
])
def test_refused_xlsform_features(tmp_path: Path, rows: list[tuple[object, ...]],
                                  header: tuple[str, ...], message: str) -> None:
    path = xlsform(tmp_path / "form.xlsx", rows, header=header)
    with pytest.raises(FormError) as error:
        read_xlsform(path)
    assert message in str(error.value)


def test_an_unknown_type_is_refused_by_pyxform_with_its_row(tmp_path: Path) -> None:
    path = xlsform(tmp_path / "form.xlsx", [("integer", "age", "Age"), ("selfie", "s", "S")])
    with pytest.raises(FormError, match="selfie"):
        read_xlsform(path)


def test_the_committed_forms_are_read_with_languages_groups_and_logic() -> None:
    joint = read_form(FORMS / "joint_evaluation.xlsx")
    assert joint.form_id == "joint_eval_2026" and joint.default_language == "fr"
    satisfaction = joint.question("satisfaction")
    assert satisfaction is not None and satisfaction.required
    assert satisfaction.section == {"fr": "Le partenariat", "en": "The partnership",
                                    "pt": "A parceria"}
    assert [c.name for c in satisfaction.choices] == ["yes", "partly", "no"]
    meetings = joint.question("meetings")
    assert meetings is not None and meetings.constraint_message["en"] == "Between 0 and 52 meetings"
    water = read_form(FORMS / "water_points.xlsx")
    problems = water.question("problems")
    assert problems is not None and problems.or_other and problems.relevant == "${functional} = 'no'"
    other = water.question("problems_other")
    assert other is not None and other.relevant == "selected(${problems}, 'other')"
    quality = water.question("quality")
    assert quality is not None and (quality.start, quality.end, quality.step) == (1, 5, 1)
    region = water.question("region")
    assert region is not None and region.choices[0].properties == {"country": "SN"}


def test_yaml_questionnaire(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text("""
form_id: quick
title: {fr: Point rapide, en: Quick check}
default_language: fr
questions:
  - name: ok
    type: select_one
    label: {fr: "Tout va bien ?", en: "All well?"}
    required: true
    choices:
      - {name: "yes", label: {fr: Oui, en: "Yes"}}
      - {name: "no", label: {fr: Non, en: "No"}}
    or_other: true
  - name: why
    type: text
    label: "Pourquoi ?"
    relevant: ${ok} = 'no'
""", encoding="utf-8")
    definition = read_form(path)
    assert [q.name for q in definition.questions] == ["ok", "ok_other", "why"]
    assert definition.questions[2].label == {"fr": "Pourquoi ?"}


@pytest.mark.parametrize(("body", "message"), [
    ("form_id: x\ntitle: X\nquestions:\n  - {name: a, type: hour}\n", "questions.0.type"),
    ("form_id: x\ntitle: X\nquestions:\n  - {name: a, type: text, colour: red}\n",
     "questions.0.colour"),
    ("form_id: x\ntitle: X\nquestions:\n  - {name: a, type: text, relevant: 'foo(1)'}\n",
     "sheet questions, row 1, column relevant: unsupported function foo()"),
    ("form_id: x\ntitle: {xx: X}\nquestions:\n  - {name: a, type: text}\n",
     "unknown language 'xx'"),
])
def test_refused_yaml(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(FormError) as error:
        read_form(path)
    assert message in str(error.value)


async def test_versions_by_content(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from bot.core.announcements import AnnouncementService
    from bot.core.surveys import SurveyService

    store = await Store.open(tmp_path / "db.sqlite")
    try:
        service = SurveyService(store, AnnouncementService(store, "UTC"), "UTC")
        now = datetime(2026, 3, 3, tzinfo=UTC)
        path = xlsform(tmp_path / "form.xlsx", [("integer", "age", "Age")])
        first, created = await service.import_form(path, now)
        assert created and first.version == 1
        again, created = await service.import_form(path, now)
        assert not created and again.id == first.id
        xlsform(path, [("integer", "age", "Age in years")])
        second, created = await service.import_form(path, now)
        assert created and second.version == 2 and second.form_id == first.form_id
        assert (await store.surveys.form(first.id)) == first  # the old version is unchanged
    finally:
        await store.close()


def test_d1_begin_repeat_with_a_space_and_d2_list_name_header(tmp_path: Path) -> None:
    # D1: `begin repeat` (the specification's spelling) crashed with KeyError: 'begin'.
    # D2: a choices sheet headed `list name` lost the columns a choice_filter reads.
    book = Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    for row in [("type", "name", "label", "choice_filter"),
                ("select_one country", "country", "Country", ""),
                ("select_one city", "city", "City", "country = ${country}"),
                ("begin repeat", "people", "People", ""), ("text", "who", "Who", ""),
                ("end repeat", "", "", "")]:
        survey.append(list(row))
    choices = book.create_sheet("choices")
    for row in [("list name", "name", "label", "country"), ("country", "sn", "Senegal", ""),
                ("city", "dakar", "Dakar", "sn")]:
        choices.append(list(row))
    book.save(tmp_path / "f.xlsx")
    definition = read_xlsform(tmp_path / "f.xlsx")
    city = definition.question("city")
    assert city is not None and city.choices[0].properties == {"country": "sn"}
    who = definition.question("who")
    assert who is not None and who.repeat == "people"
    loop = definition.repeat_of("people")
    assert loop is not None and loop.type == "repeat" and loop.repeat_count is None


def test_d4_a_default_that_is_not_a_choice_is_not_proposed(tmp_path: Path) -> None:
    from datetime import date

    from bot.core.surveys import engine

    path = xlsform(tmp_path / "f.xlsx", [("select_one yn", "ok", "OK", "", "", "", "", "maybe"),
                                         ("select_one yn", "fine", "Fine", "", "", "", "", "no")],
                   choices=[("yn", "yes", "Yes"), ("yn", "no", "No")],
                   header=(*HEADER, "default"))
    definition = read_xlsform(path)
    state = engine.evaluate(definition, {}, date(2026, 3, 3))
    ok, fine = definition.questions[0], definition.questions[1]
    assert engine.default(state, ok, 0) is None
    assert engine.default(state, fine, 0) == "no"


def test_d5_markup_and_references_in_form_texts() -> None:
    from bot.core.surveys.markup import render

    values = {"name": "<Awa & co>"}
    assert render("Hello **${name}**<br/>next", values) == "Hello <b>&lt;Awa &amp; co&gt;</b>\nnext"
    assert render("<span style='color:red'>red</span> _it_ my_var", {}) == \
        "red <i>it</i> my_var"
    assert render("Unknown ${never} here", {}) == "Unknown  here"  # not shown raw
    assert render("<b>open", {}) == "<b>open</b>"  # Telegram refuses unbalanced tags
    assert render("a < b", {}) == "a &lt; b"


def test_legacy_spellings_metadata_and_a_name_in_two_groups(tmp_path: Path) -> None:
    path = xlsform(tmp_path / "f.xlsx", [
        ("start", "started"), ("deviceid", "device"), ("gps", "where", "Where"),
        ("phone number", "tel", "Phone"), ("add text prompt", "note_text", "Text"),
        ("begin group", "a", "A"), ("text", "name", "Name A"), ("end group", ""),
        ("begin group", "b", "B"), ("text", "name", "Name B"), ("end group", "")])
    definition = read_xlsform(path)
    kinds = {q.name: q.type for q in definition.questions}
    assert kinds["started"] == "meta" and kinds["device"] == "meta"
    assert kinds["where"] == "geopoint" and kinds["tel"] == "text"
    assert kinds["note_text"] == "text"
    assert kinds["name"] == "text" and kinds["b/name"] == "text"
    assert [q.name for q in definition.asked()] == ["where", "tel", "note_text", "name",
                                                    "b/name"]


def test_a_calculation_with_a_trigger_is_proposed_not_imposed(tmp_path: Path) -> None:
    path = xlsform(tmp_path / "f.xlsx", [
        ("integer", "n", "N"),
        ("text", "shown", "Shown", "", "", "", "concat('n=', ${n})"),
        ("text", "proposed", "Proposed", "", "", "", "concat('n=', ${n})", "${n}")],
        header=(*HEADER, "trigger"))
    definition = read_xlsform(path)
    shown, proposed = definition.question("shown"), definition.question("proposed")
    assert shown is not None and shown.read_only and shown.calculation
    assert proposed is not None and not proposed.read_only and proposed.calculation is None
    assert proposed.default_expression == "concat('n=', ${n})"


def test_choices_from_a_file_given_at_import_and_the_external_choices_sheet(
        tmp_path: Path) -> None:
    from datetime import date

    from bot.core.surveys import engine

    book = Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    for row in [("type", "name", "label", "required", "choice_filter", "calculation"),
                ("select_one_from_file towns.csv", "town", "Town", "yes", "", ""),
                ("calculate", "people", "", "", "", "pulldata('towns', 'people', 'name', "
                                                    "${town})"),
                ("select one external quarter", "quarter", "Quarter", "yes", "town=${town}", "")]:
        survey.append(list(row))
    external = book.create_sheet("external_choices")
    for row in [("list_name", "name", "label", "town"), ("quarter", "q1", "Boucotte", "zig"),
                ("quarter", "q2", "Plateau", "dkr")]:
        external.append(list(row))
    form = tmp_path / "form" / "f.xlsx"
    form.parent.mkdir()
    book.save(form)
    # Imported without its data file, which is named (the questionnaire waits for it).
    waiting = read_xlsform(form)
    assert waiting.missing_files == ("towns.csv",)
    town = waiting.question("town")
    assert town is not None and town.choices == ()
    towns = tmp_path / "towns.csv"
    towns.write_text("name,label,people\nzig,Ziguinchor,205000\ndkr,Dakar,1100000\n",
                     encoding="utf-8")
    definition = read_xlsform(form, {"towns.csv": towns})
    assert definition.missing_files == ()
    # Found beside the form too, where Kobo and ODK tools put a form's files.
    (form.parent / "media").mkdir()
    towns.rename(form.parent / "media" / "towns.csv")
    assert read_xlsform(form) == definition
    town = definition.question("town")
    assert town is not None and [c.name for c in town.choices] == ["zig", "dkr"]
    state = engine.evaluate(definition, {"town": ("zig", None)}, date(2026, 3, 3))
    assert state.values["people"] == "205000"
    quarter = definition.question("quarter")
    assert quarter is not None
    from bot.core.surveys.answers import options

    assert options(quarter, state, 0, "en") == [("q1", "Boucotte")]


def test_data_files_csv_external_xml_geojson_and_select_parameters(tmp_path: Path) -> None:
    from datetime import date

    from bot.core.surveys import engine

    book = Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    for row in [("type", "name", "label", "calculation", "parameters"),
                ("csv-external", "prices", "", "", ""),
                ("select_one_from_file crops.csv", "crop", "Crop", "", "value=code label=title"),
                ("calculate", "price", "", "pulldata('prices', 'price', 'crop', ${crop})", ""),
                ("select_one_from_file plots.xml", "plot", "Plot", "", ""),
                ("select_one_from_file wells.geojson", "well", "Well", "", ""),
                ("calculate", "where", "", "instance('wells')/root/item[name=${well}]/geometry",
                 "")]:
        survey.append(list(row))
    form = tmp_path / "f.xlsx"
    book.save(form)
    assert read_xlsform(form).missing_files == ("prices.csv", "crops.csv", "plots.xml",
                                                "wells.geojson")
    (tmp_path / "prices.csv").write_text("crop,price\nmil,250\n", encoding="utf-8")
    # The `value` and `label` parameters name the columns; label::lang columns translate.
    (tmp_path / "crops.csv").write_text("code,title,title::Français (fr)\nmil,Millet,Mil\n",
                                        encoding="utf-8")
    (tmp_path / "plots.xml").write_text(
        "<root><item><name>p1</name><label>Plot 1</label></item></root>", encoding="utf-8")
    (tmp_path / "wells.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "w1", '
        '"properties": {"title": "North well"}, '
        '"geometry": {"type": "Point", "coordinates": [-16.27, 12.58]}}]}', encoding="utf-8")
    definition = read_xlsform(form)  # found beside the form
    assert definition.missing_files == ()
    crop, plot, well = (definition.question(n) for n in ("crop", "plot", "well"))
    assert crop is not None and plot is not None and well is not None
    assert [(c.name, c.label) for c in crop.choices] == [
        ("mil", {"default": "Millet", "fr": "Mil"})]
    assert [c.name for c in plot.choices] == ["p1"]
    assert [(c.name, c.label["default"]) for c in well.choices] == [("w1", "North well")]
    state = engine.evaluate(definition, {"crop": ("mil", None), "well": ("w1", None)},
                            date(2026, 3, 3))
    assert state.values["price"] == "250"
    assert state.values["where"] == "12.58 -16.27 0 0"
    # An XML data file declaring entities is refused (an entity bomb?).
    (tmp_path / "plots.xml").write_text('<!DOCTYPE r [<!ENTITY a "aa">]><root/>',
                                        encoding="utf-8")
    with pytest.raises(FormError, match=r"plots\.xml: declares XML entities"):
        read_xlsform(form)


def test_a_loop_over_a_list_and_a_name_outside_and_inside_a_group(tmp_path: Path) -> None:
    path = xlsform(tmp_path / "loop.xlsx", [
        ("select_multiple crop", "crops", "Crops grown"),
        ("begin loop over crop", "harvest", ""),
        ("decimal", "tons", "Tons of %(label)s harvested", "", ". >= 0"),
        ("end loop", ""),
        ("begin group", "contact", "Contact"),
        ("text", "phone", "Phone"),
        ("end group", ""),
        ("calculate", "phone", "", "", "", "", "'+221'"),
    ], choices=[("crop", "millet", "Millet"), ("crop", "rice", "Rice")])
    definition = read_xlsform(path)
    # One group per choice, named as Kobo's export names them, the choice's label in its texts.
    tons = [q for q in definition.questions if q.name.endswith("/tons")]
    assert [(q.name, q.label["default"], q.section["default"]) for q in tons] == [
        ("harvest/millet/tons", "Tons of Millet harvested", "Millet"),
        ("harvest/rice/tons", "Tons of Rice harvested", "Rice")]
    assert all(q.constraint == ". >= 0" for q in tons)
    # The question outside any group keeps its name; the one in a group, its path.
    assert definition.question("phone") is not None
    assert definition.question("phone").type == "calculate"  # type: ignore[union-attr]
    assert definition.question("contact/phone") is not None
