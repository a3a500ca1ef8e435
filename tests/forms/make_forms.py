"""Write the XLSForms the survey tests answer, as evaluation teams write them for Kobo/ODK.

Run `python tests/forms/make_forms.py` after changing a form; the .xlsx files are committed so
that the tests read exactly what a person would upload.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
Rows = Sequence[Sequence[object]]


def workbook(survey: Rows, choices: Rows, settings: Rows) -> Workbook:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in survey:
        sheet.append(list(row))
    for title, rows in (("choices", choices), ("settings", settings)):
        if rows:
            extra = book.create_sheet(title)
            for row in rows:
                extra.append(list(row))
    return book


# A joint end-of-year evaluation of a partnership, answered by both sides (French first).
JOINT = workbook(
    survey=[
        ("type", "name", "label::Français (fr)", "label::English (en)", "label::Português (pt)",
         "hint::Français (fr)", "hint::English (en)", "required", "constraint",
         "constraint_message::Français (fr)", "constraint_message::English (en)", "relevant",
         "calculation", "default"),
        ("note", "intro", "Évaluation conjointe du partenariat ${year}",
         "Joint evaluation of the partnership", "Avaliação conjunta da parceria"),
        ("calculate", "year", "", "", "", "", "", "", "", "", "", "", "2026"),
        ("begin_group", "general", "Le partenariat", "The partnership", "A parceria"),
        ("select_one satisfaction", "satisfaction", "Êtes-vous satisfait·e du partenariat ?",
         "Are you satisfied with the partnership?", "Está satisfeito com a parceria?", "", "",
         "yes"),
        ("select_multiple strengths", "strengths", "Quels sont ses points forts ?",
         "What are its strengths?", "Quais são os pontos fortes?", "Plusieurs réponses possibles",
         "Several answers possible", "yes", "count-selected(.) <= 3",
         "Trois réponses au plus", "Three answers at most"),
        ("text", "improve", "Que faudrait-il améliorer ?", "What should be improved?",
         "O que deveria melhorar?", "", "", "", "", "", "",
         "${satisfaction} = 'no' or ${satisfaction} = 'partly'"),
        ("end_group", "", ""),
        ("begin_group", "activities", "Les activités", "Activities", "As atividades"),
        ("integer", "meetings", "Combien de réunions de suivi cette année ?",
         "How many follow-up meetings this year?", "Quantas reuniões de acompanhamento?", "", "",
         "yes", ". >= 0 and . <= 52", "Entre 0 et 52 réunions", "Between 0 and 52 meetings"),
        ("decimal", "budget_share", "Part du budget exécutée (%)",
         "Share of the budget spent (%)", "Parte do orçamento executada (%)", "", "", "",
         ". >= 0 and . <= 100", "Un pourcentage entre 0 et 100", "A percentage from 0 to 100"),
        ("date", "last_visit", "Date de la dernière visite", "Date of the last visit",
         "Data da última visita", "", "", "", ". <= today()",
         "La date ne peut pas être dans le futur", "The date cannot be in the future"),
        ("end_group", "", ""),
        ("geopoint", "site", "Où se trouve le site principal ?", "Where is the main site?",
         "Onde fica o local principal?"),
        ("image", "photo", "Une photo du site (facultatif)", "A photo of the site (optional)",
         "Uma foto do local (opcional)"),
        ("acknowledge", "consent", "J'accepte que mes réponses soient partagées avec le partenaire",
         "I agree that my answers are shared with the partner",
         "Aceito que as respostas sejam partilhadas", "", "", "yes"),
    ],
    choices=[
        ("list_name", "name", "label::Français (fr)", "label::English (en)", "label::Português (pt)"),
        ("satisfaction", "yes", "Oui", "Yes", "Sim"),
        ("satisfaction", "partly", "En partie", "Partly", "Em parte"),
        ("satisfaction", "no", "Non", "No", "Não"),
        ("strengths", "trust", "La confiance", "Trust", "A confiança"),
        ("strengths", "funding", "Le financement", "Funding", "O financiamento"),
        ("strengths", "training", "Les formations", "Training", "As formações"),
        ("strengths", "visits", "Les visites", "Visits", "As visitas"),
        ("strengths", "communication", "La communication", "Communication", "A comunicação"),
    ],
    settings=[("form_title", "form_id", "version", "default_language"),
              ("Évaluation conjointe 2026", "joint_eval_2026", "2026-01", "Français (fr)")],
)

# Monitoring of water points: skip logic, or_other, choice_filter by country, audio.
WATER = workbook(
    survey=[
        ("type", "name", "label::English (en)", "label::Français (fr)", "required",
         "required_message::English (en)", "constraint", "constraint_message::English (en)",
         "constraint_message::Français (fr)", "relevant", "choice_filter"),
        ("select_one country", "country", "Country", "Pays", "yes"),
        ("select_one region", "region", "Region", "Région", "yes", "", "", "", "", "",
         "country = ${country}"),
        ("select_one yesno", "functional", "Is the water point working?",
         "Le point d'eau fonctionne-t-il ?", "yes", "Please answer"),
        ("select_multiple problem or_other", "problems", "What is wrong?",
         "Quel est le problème ?", "yes", "", "", "", "", "${functional} = 'no'"),
        ("integer", "households", "How many households use it?",
         "Combien de ménages l'utilisent ?", "yes", "", ". > 0 and . < 5000",
         "Between 1 and 4999 households", "Entre 1 et 4999 ménages"),
        ("range", "quality", "Water quality (1 = bad, 5 = very good)",
         "Qualité de l'eau (1 = mauvaise, 5 = très bonne)", ""),
        ("audio", "comment", "A voice comment (optional)", "Un commentaire vocal (facultatif)"),
    ],
    choices=[
        ("list_name", "name", "label::English (en)", "label::Français (fr)", "country"),
        ("country", "SN", "Senegal", "Sénégal"),
        ("country", "BF", "Burkina Faso", "Burkina Faso"),
        ("region", "ziguinchor", "Ziguinchor", "Ziguinchor", "SN"),
        ("region", "kolda", "Kolda", "Kolda", "SN"),
        ("region", "boucle", "Boucle du Mouhoun", "Boucle du Mouhoun", "BF"),
        ("yesno", "yes", "Yes", "Oui"),
        ("yesno", "no", "No", "Non"),
        ("problem", "pump", "Broken pump", "Pompe cassée"),
        ("problem", "dry", "No water", "Plus d'eau"),
        ("problem", "dirty", "Dirty water", "Eau sale"),
    ],
    settings=[("form_title", "form_id", "version", "default_language"),
              ("Water point monitoring", "water_points", "3", "English (en)")],
)
WATER["survey"]["L1"] = "parameters"  # range: start=1 end=5 step=1, as Kobo writes it
WATER["survey"]["L7"] = "start=1 end=5 step=1"

# Feedback after a training session: many choices (paged buttons), regex, coalesce/concat.
TRAINING = workbook(
    survey=[
        ("type", "name", "label", "hint", "required", "constraint", "constraint_message",
         "relevant", "calculation"),
        ("select_one module", "module", "Which module did you attend?", "", "yes"),
        ("text", "phone", "Your phone number (digits only)", "For the certificate", "",
         "regex(., '^[0-9]{8,12}$')", "Digits only, 8 to 12 of them"),
        ("integer", "participants", "How many people attended from your organisation?", "",
         "yes", ". > 0", "At least one"),
        ("calculate", "big_group", "", "", "", "", "", "", "if(${participants} > 5, 'yes', 'no')"),
        ("text", "why_big", "Why did so many people attend?", "", "", "", "",
         "${big_group} = 'yes'"),
        ("note", "thanks", "Thank you, ${phone}!", "", "", "", "", "string-length(${phone}) > 0"),
    ],
    choices=[("list_name", "name", "label")] + [
        ("module", f"m{i}", f"Module {i}: " + topic) for i, topic in enumerate(
            ["Budgeting", "Procurement", "Water governance", "Waste", "Gender", "Monitoring",
             "Reporting", "Communication", "Fundraising", "Climate", "Health", "Education"],
            start=1)],
    settings=[("form_title", "form_id"), ("Training feedback", "training_feedback")],
)


LONG = ("Shared management committee with the municipality, the water users' association "
        "and the district health office")

# A household visit as Kobo/ODK teams write it: metadata, a repeat spelled `begin repeat` (D1),
# a choices sheet headed `list name` with a cascading select (D2), a constraint naming its own
# question (D3), a select's default (D4), ${x} in hints and Markdown/HTML styling (D5), a long
# choice label (D6), read-only calculations, time/datetime/month-year, a signature, a
# computed default, a conditional required, a repeat_count, and ODK functions over repeats.
HOUSEHOLD = workbook(
    survey=[
        ("type", "name", "label", "hint", "required", "constraint", "constraint_message",
         "relevant", "calculation", "default", "appearance", "repeat_count", "choice_filter",
         "read_only", "media::image", "media::audio"),
        ("start", "started"), ("end", "ended"), ("today", "day"), ("deviceid", "device"),
        ("username", "user"), ("phonenumber", "phone"), ("audit", "audit"),
        ("note", "welcome", "**Household visit**<br/>Thank you for your time.", "", "", "", "",
         "", "", "", "", "", "", "", "house.png"),
        ("select_one region", "region", "Region", "", "yes", "", "", "", "", "", "", "", "", "",
         "", "region.ogg"),
        ("select_one district", "district", "District", "In ${region}", "yes", "", "", "", "",
         "", "", "", "region = ${region}"),
        ("select_one yes_no", "electricity", "Is there electricity?", "", "yes", "", "", "", "",
         "no"),
        ("begin repeat", "member", "Household member"),
        ("text", "member_name", "Name of member ${position}", "", "yes"),
        ("integer", "age", "Age of ${member_name}", "", "yes", "${age} >= 0 and ${age} < 120",
         "Between 0 and 119"),
        ("calculate", "position", "", "", "", "", "", "", "position(..)"),
        ("end repeat", ""),
        ("calculate", "members", "", "", "", "", "", "", "count(${member})"),
        ("calculate", "total_age", "", "", "", "", "", "", "sum(${age})"),
        ("text", "summary", "Summary", "", "", "", "", "", "concat(${members}, ' people, first: ',"
         " indexed-repeat(${member_name}, ${member}, 1))", "", "", "", "", "yes"),
        ("integer", "visits_planned", "How many follow-up visits?", "", "yes",
         ". >= 0 and . <= 3"),
        ("begin repeat", "visit", "Follow-up visit", "", "", "", "", "", "", "", "",
         "${visits_planned}"),
        ("date", "visit_day", "Day of visit ${position_v}", "", "yes", "", "", "", "", "today()"),
        ("calculate", "position_v", "", "", "", "", "", "", "position(..)"),
        ("end repeat", ""),
        ("select_one committee", "committee", "Who manages the water point?", "", "yes"),
        ("text", "committee_name", "Name of the committee", "Managed by: ${committee}", "",
         "", "", "", "", "", "", "", "", "", ""),
        ("time", "visit_time", "Time of the visit"),
        ("datetime", "next_meeting", "Next meeting", "", "${electricity} = 'yes'"),
        ("date", "since", "Connected since (month and year)", "", "", "", "", "", "", "",
         "month-year"),
        ("geopoint", "location", "Location of the house", "", "yes"),
        ("image", "signature", "Signature of the head of household", "", "", "", "", "", "",
         "", "signature"),
        ("calculate", "district_label", "", "", "", "", "", "", "jr:choice-name(${district}, "
         "'${district}')"),
        ("calculate", "rounded", "", "", "", "", "", "", "round(${total_age} div 3, 1)"),
        ("calculate", "first_pick", "", "", "", "", "", "", "selected-at(${committee}, 0)"),
        ("calculate", "stamp", "", "", "", "", "", "", "once(today())"),
        ("note", "bye", "Thank you! ${members} people, ${district_label}."),
    ],
    choices=[
        ("list name", "name", "label", "region"),
        ("region", "north", "North"), ("region", "south", "South"),
        ("district", "n1", "North One", "north"), ("district", "n2", "North Two", "north"),
        ("district", "s1", "South One", "south"),
        ("yes_no", "yes", "Yes"), ("yes_no", "no", "No"),
        ("committee", "shared", LONG), ("committee", "town", "The town hall"),
    ],
    settings=[("form_title", "form_id", "version"), ("Household visit", "household_visit", "1")],
)

# The progress total: ten questions open only when the first answer is yes.
PROGRESS = workbook(
    survey=[("type", "name", "label", "relevant"),
            ("select_one yn", "any", "Any problems?"),
            *[("text", f"detail{i}", f"Detail {i}", "${any} = 'yes'") for i in range(1, 11)],
            ("text", "last", "Anything else?")],
    choices=[("list_name", "name", "label"), ("yn", "yes", "Yes"), ("yn", "no", "No")],
    settings=[("form_title", "form_id"), ("Progress", "progress_total")],
)


# Field mapping as OSM and land teams write it: a line walked (geotrace) and an area
# (geoshape), each as locations shared one after the other, ODK's distance() and area() on
# them, choices from a data file (select_one_from_file, found beside the form) and pulldata().
MAPPING = workbook(
    survey=[("type", "name", "label", "required", "constraint", "constraint_message",
             "calculation"),
            ("select_one_from_file villages.csv", "village", "Village", "yes"),
            ("calculate", "people", "", "", "", "",
             "pulldata('villages', 'people', 'name', ${village})"),
            ("geotrace", "road", "Walk along the road", "yes", "distance(.) >= 10",
             "At least 10 m"),
            ("calculate", "road_m", "", "", "", "", "round(distance(${road}), 0)"),
            ("geoshape", "field", "The field's corners", "yes"),
            ("calculate", "field_m2", "", "", "", "", "round(area(${field}), 0)"),
            ("note", "done", "Road ${road_m} m, field ${field_m2} m², ${people} people.")],
    choices=[],
    settings=[("form_title", "form_id"), ("Field mapping", "field_mapping")],
)


# A tree census: a repeat (plots, "Add another?") holding a repeat (trees, repeat_count), a
# photo in the inner one, position(), count() within a plot and over the whole census, and
# indexed-repeat() naming an iteration at each level.
CENSUS = workbook(
    survey=[("type", "name", "label", "required", "constraint", "calculation", "repeat_count"),
            ("begin repeat", "plot", "Plot"),
            ("calculate", "plot_no", "", "", "", "position(..)"),
            ("text", "plot_name", "Name of plot ${plot_no}", "yes"),
            ("integer", "trees_n", "How many trees in ${plot_name}?", "yes", ". >= 0 and . <= 5"),
            ("begin repeat", "tree", "Tree", "", "", "", "${trees_n}"),
            ("calculate", "tree_no", "", "", "", "position(..)"),
            ("select_one species", "species", "Species of tree ${tree_no} in ${plot_name}",
             "yes"),
            ("image", "tree_photo", "Photo of the tree"),
            ("end repeat", ""),
            ("calculate", "plot_trees", "", "", "", "count(${tree})"),
            ("note", "plot_done", "${plot_name}: ${plot_trees} trees"),
            ("end repeat", ""),
            ("calculate", "plots", "", "", "", "count(${plot})"),
            ("calculate", "all_trees", "", "", "", "count(${tree})"),
            ("calculate", "second_first", "", "", "",
             "indexed-repeat(${species}, ${plot}, 2, ${tree}, 1)"),
            ("note", "total", "${all_trees} trees in ${plots} plots")],
    choices=[("list_name", "name", "label"), ("species", "mango", "Mango"),
             ("species", "neem", "Neem")],
    settings=[("form_title", "form_id"), ("Tree census", "tree_census")],
)


def main() -> None:
    for name, book in (("joint_evaluation", JOINT), ("water_points", WATER),
                       ("training_feedback", TRAINING), ("household_visit", HOUSEHOLD),
                       ("progress_total", PROGRESS), ("field_mapping", MAPPING),
                       ("tree_census", CENSUS)):
        book.save(HERE / f"{name}.xlsx")
    # The field mapping's data file, found beside the form at import.
    (HERE / "villages.csv").write_text("name,label,people\nkande,Kandé,1200\nbrin,Brin,800\n",
                                       encoding="utf-8")
    # The household visit's media labels, found beside the form at import.
    (HERE / "house.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"house" * 20)
    (HERE / "region.ogg").write_bytes(b"OggS" + b"region" * 20)


if __name__ == "__main__":
    main()
