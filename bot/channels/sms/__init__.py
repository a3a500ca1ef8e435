"""SMS: replies as plain-text messages within a carrier's segments (no transport yet)."""
