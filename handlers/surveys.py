"""Surveys: /surveys, /newsurvey (formerly /survey), /results, and the questionnaire's buttons."""

from __future__ import annotations

from bot.core.callbacks import SurveyAnswer, SurveyExport, SurveyLaunch, SurveyResults
from bot.core.events import Choice, Command
from bot.core.onboarding import expired_button
from bot.core.replies import Outcome
from handlers.routing import Context, Router
from storage.models import Member

router = Router("surveys")


@router.command("surveys", members_only=True)
async def pending(event: Command, ctx: Context, member: Member) -> Outcome:
    """List the questionnaires waiting for the member, with Start buttons."""
    return await ctx.services.surveys.pending(member, ctx.now())


@router.command("newsurvey", "survey", members_only=True)  # /survey: the former name (ALIASES)
async def survey(event: Command, ctx: Context, member: Member) -> Outcome:
    """Start choosing a questionnaire to send (coordinators and administrators)."""
    return await ctx.services.surveys.begin_launch(member)


@router.command("results", members_only=True)
async def results(event: Command, ctx: Context, member: Member) -> Outcome:
    """Offer the questionnaires whose results the member may read."""
    return await ctx.services.surveys.results_menu(member)


# `SurveyStart` (sv:go:…) is under the same prefix as `SurveyAnswer`.
@router.choice(SurveyAnswer, members_only=True)
async def answer_button(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Handle a button of the questionnaire under way."""
    return await ctx.services.surveys.on_callback(member, event.data, ctx.now())


@router.choice(SurveyLaunch, members_only=True)
async def launch_button(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Handle a button of the /newsurvey screens."""
    return await ctx.services.surveys.on_launch_callback(member, event.data, ctx.now())


@router.choice(SurveyResults, members_only=True)
async def results_button(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Show the results of one campaign (overview and chart), or one question's answers."""
    return await ctx.services.surveys.on_results_callback(member, event.data, ctx.now())


@router.choice(SurveyExport, members_only=True)
async def export_button(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Send a campaign's answers in the member's scope as a spreadsheet."""
    ref = SurveyExport.parse(event.data)
    if ref is None:
        return expired_button()
    return await ctx.services.surveys.export(member, ref.campaign_id)
