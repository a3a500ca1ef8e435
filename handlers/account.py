"""Every member's own account: /help, /language, /cancel, /stop, /mydata, /forget."""

from __future__ import annotations

from bot.core.callbacks import AccountLanguage, Forget
from bot.core.events import Choice, Command
from bot.core.replies import Outcome
from handlers.routing import Context, Router
from storage.models import Member

router = Router("account")


@router.command("help")
async def help_command(event: Command, ctx: Context) -> Outcome:
    """List what the person may do, by role (or how to join)."""
    return await ctx.services.account.help(ctx.member)


@router.command("language", members_only=True)
async def language(event: Command, ctx: Context, member: Member) -> Outcome:
    """Offer the languages."""
    return ctx.services.account.language_prompt(member)


@router.command("cancel")
async def cancel(event: Command, ctx: Context) -> Outcome:
    """Leave the flow under way, if any (the first in the core's list of flows)."""
    return await ctx.services.free_input.cancel(ctx.member, event.sender.user_id, ctx.now())


@router.command("stop", members_only=True)
async def stop(event: Command, ctx: Context, member: Member) -> Outcome:
    """Stop reminders and announcements; keep the data."""
    return await ctx.services.account.stop(member, ctx.now())


@router.command("mydata", members_only=True)
async def my_data(event: Command, ctx: Context, member: Member) -> Outcome:
    """Send the member their stored data as a JSON document."""
    return await ctx.services.account.my_data(member, ctx.now())


@router.command("forget", members_only=True)
async def forget(event: Command, ctx: Context, member: Member) -> Outcome:
    """Ask for confirmation before deleting personal data."""
    return ctx.services.account.forget_prompt()


@router.choice(AccountLanguage, members_only=True)
async def set_language(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Switch the member's language."""
    ref = AccountLanguage.parse(event.data)
    return await ctx.services.account.set_language(member, ref.language if ref else "",
                                                   ctx.now())


@router.choice(Forget, members_only=True)
async def forget_answer(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Delete personal data if confirmed."""
    ref = Forget.parse(event.data)
    return await ctx.services.account.forget(member, ref is not None and ref.confirmed,
                                             ctx.now())
