"""Exports of what came in: spreadsheets (XLSX, CSV), JSON Lines, media packs.

They run on a worker thread with their own read-only SQLite connection and stream rows, so an
export of a large store neither blocks the bot nor holds the whole store in memory.
"""
