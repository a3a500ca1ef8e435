"""Consultation: /summary, /latest, /toreview, /export, and the buttons of /latest."""

from __future__ import annotations

from bot.core.callbacks import LatestPage, OpenReport
from bot.core.events import Choice, Command
from bot.core.replies import Outcome
from handlers.routing import Context, Router
from storage.models import Member

router = Router("consultation")


def _argument(event: Command) -> str | None:
    return " ".join(event.args)[:100] if event.args else None


@router.command("summary", members_only=True)
async def summary(event: Command, ctx: Context, member: Member) -> Outcome:
    """Show where each project in scope stands, with a chart of its indicators."""
    consultation, slug = ctx.services.consultation, _argument(event)
    # The text first: the charts take a while to draw, shown meanwhile as a photo on its way.
    await ctx.send(await consultation.summary_text(member, ctx.now(), slug))
    await ctx.busy("photo")
    charts = await consultation.summary_charts(member, slug)
    return charts if charts.replies else Outcome()


@router.command("latest", members_only=True)
async def latest(event: Command, ctx: Context, member: Member) -> Outcome:
    """List the latest reports in scope, newest first."""
    return await ctx.services.consultation.latest(member, 0, _argument(event))


@router.command("toreview", members_only=True)
async def to_review(event: Command, ctx: Context, member: Member) -> Outcome:
    """List the reports waiting for a coordinator's decision."""
    return await ctx.services.consultation.to_review(member)


@router.command("export", members_only=True)
async def export(event: Command, ctx: Context, member: Member) -> Outcome:
    """Send a spreadsheet of everything in scope."""
    await ctx.busy("document")
    return await ctx.services.consultation.export(member, ctx.now())


@router.choice(LatestPage, members_only=True)
async def latest_page(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Turn a page of the latest reports."""
    return await ctx.services.consultation.latest_page(member, event.data)


@router.choice(OpenReport, members_only=True)
async def open_report(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Show a report picked in the latest reports."""
    return await ctx.services.consultation.show_by_id(member, event.data)
