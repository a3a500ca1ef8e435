"""Joining: /start with or without a code, the language buttons, the consent buttons."""

from __future__ import annotations

from bot.core.callbacks import OnboardingBack, OnboardingConsent, OnboardingLanguage
from bot.core.events import Choice, Command
from bot.core.replies import Outcome
from handlers.routing import Context, Router

router = Router("onboarding")


@router.command("start")
async def start(event: Command, ctx: Context) -> Outcome:
    """Greet a member, or start joining with the invitation code from the link."""
    payload = " ".join(event.args) or None
    return await ctx.services.onboarding.start(event.sender, payload, ctx.now())


@router.choice(OnboardingLanguage)
async def choose_language(event: Choice, ctx: Context) -> Outcome:
    """Record the language chosen while joining."""
    ref = OnboardingLanguage.parse(event.data)
    return await ctx.services.onboarding.choose_language(
        event.sender, ref.language if ref else "", ctx.now())


@router.choice(OnboardingConsent)
async def consent(event: Choice, ctx: Context) -> Outcome:
    """Record the answer to the consent text and enrol the member."""
    ref = OnboardingConsent.parse(event.data)
    return await ctx.services.onboarding.answer_consent(
        event.sender, ref is not None and ref.agreed, ctx.now())


@router.choice(OnboardingBack)
async def back_to_language(event: Choice, ctx: Context) -> Outcome:
    """Go back from the consent text to the choice of language."""
    return await ctx.services.onboarding.back_to_language(event.sender, ctx.now())
