"""Messaging channels other than Telegram's long polling (WhatsApp's Cloud API so far)."""
