"""The templates Palabre sends outside the 24-hour window: valid for Meta in every language,
printed for submission, and checked against what Meta approved (`palabre whatsapp templates`)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.whatsapp.templates import (
    LANGUAGES,
    TEMPLATES,
    Rendered,
    TemplateSpec,
    every_template,
    problems,
    render,
)
from bot.emulator.whatsapp import WhatsAppEmulator

ROOT = Path(__file__).resolve().parents[2]
PARAMETER = re.compile(r"\{\{\d+\}\}")


def test_every_template_is_valid_and_translated_in_every_language() -> None:
    specs = {spec.name: spec for spec in TEMPLATES}
    rendered = every_template()
    assert {(t.name, t.language) for t in rendered} == {
        (spec.name, language) for spec in TEMPLATES for language in LANGUAGES}
    for template in rendered:
        spec = specs[template.name]
        assert problems(template, spec) == [], template
        assert sorted(PARAMETER.findall(template.body)) == sorted(PARAMETER.findall(spec.body))
        assert len(spec.examples) == spec.parameters
        if template.language != "en":
            english = render(spec, "en")
            assert template.body != english.body, (template.name, template.language)
            assert template.buttons != english.buttons or template.buttons == (), template


def test_what_meta_refuses_is_caught() -> None:
    spec = TemplateSpec("palabre_x", "Hello {{1}}, it is {{2}}.", ("Yes",), ("A", "B"), "test")

    def with_(body: str = "Hello {{1}}, it is {{2}} now.", buttons: tuple[str, ...] = ("Yes",),
              name: str = "palabre_x") -> list[str]:
        return problems(Rendered(name, "en", "UTILITY", body, buttons, ("A", "B")), spec)

    assert with_() == []
    assert with_(body="{{1}}, it is {{2}} now.")  # starts with a parameter
    assert with_(body="Hello {{1}}, it is {{2}}.")  # ends with one
    assert with_(body="Hello {{1}}, it is {{3}} now.")  # a gap
    assert with_(body="Hello {{1}} " + "x" * 1100 + " {{2}} now.")  # too long
    assert with_(buttons=("A button far longer than Meta allows",))
    assert with_(buttons=("Yes", "Yes"))
    assert with_(name="Palabre-X")


def _cli(*args: str, env: dict[str, str] | None = None) -> asyncio.Future[tuple[int, str]]:
    async def run() -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "whatsapp", "templates", *args, cwd=ROOT,
            env={**os.environ, **(env or {})}, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        output, _ = await process.communicate()
        assert process.returncode is not None
        return process.returncode, output.decode()
    return asyncio.ensure_future(run())


async def test_the_templates_are_printed_for_submission() -> None:
    code, output = await _cli()
    assert code == 0, output
    for template in every_template():
        assert f"[{template.language}] {template.body}" in output
    code, output = await _cli("--json")
    assert code == 0, output
    payloads = [json.loads(line) for line in output.splitlines()]
    assert payloads == [t.payload() for t in every_template()]
    first = payloads[0]
    assert first["category"] == "UTILITY"
    assert first["components"][0]["example"]["body_text"] == [list(TEMPLATES[0].examples)]


@pytest.fixture
async def meta() -> AsyncIterator[WhatsAppEmulator]:
    emulator = WhatsAppEmulator()
    await emulator.start()
    emulator.template_page_size = 7  # several pages: the check follows Meta's cursor
    try:
        yield emulator
    finally:
        await emulator.stop()


async def test_check_compares_with_what_meta_approved(meta: WhatsAppEmulator) -> None:
    env = {"PALABRE_WHATSAPP_TOKEN": meta.token, "PALABRE_WHATSAPP_BASE_URL": meta.base_url,
           "PALABRE_WHATSAPP_BUSINESS_ACCOUNT_ID": meta.business_account_id}
    templates = every_template()
    for template in templates:
        meta.submit_template(template.payload())
    code, output = await _cli("--check", env=env)
    assert code == 0, output
    assert "✓" in output
    # One still in review, one approved with another wording, one never submitted.
    meta.submit_template(templates[0].payload(), status="PENDING")
    changed = templates[1].payload()
    changed["components"][0]["text"] = "An older wording {{1}} {{2}} {{3}} here."
    meta.submit_template(changed)
    meta.template_list = [t for t in meta.template_list
                          if (t["name"], t["language"]) != (templates[-1].name,
                                                            templates[-1].language)]
    code, output = await _cli("--check", env=env)
    assert code == 1, output
    assert f"{templates[0].name} ({templates[0].language}): status PENDING" in output
    assert f"{templates[1].name} ({templates[1].language}): body at Meta" in output
    assert f"{templates[-1].name} ({templates[-1].language}): not submitted" in output
    assert "3 template(s) differ" in output


async def test_check_says_what_is_missing(meta: WhatsAppEmulator) -> None:
    code, output = await _cli("--check", env={"PALABRE_WHATSAPP_TOKEN": meta.token,
                                              "PALABRE_WHATSAPP_BASE_URL": meta.base_url})
    assert code == 1 and "PALABRE_WHATSAPP_BUSINESS_ACCOUNT_ID is not set" in output
    code, output = await _cli("--check", env={
        "PALABRE_WHATSAPP_TOKEN": "wrong", "PALABRE_WHATSAPP_BASE_URL": meta.base_url,
        "PALABRE_WHATSAPP_BUSINESS_ACCOUNT_ID": meta.business_account_id})
    assert code == 1 and "cannot read the templates from Meta" in output
    assert "Traceback" not in output
