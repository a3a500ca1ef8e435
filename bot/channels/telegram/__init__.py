"""Telegram's side: the update processor, the recording getUpdates request, senders, pacing."""
