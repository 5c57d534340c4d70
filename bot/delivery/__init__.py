"""Delivery: the dispatcher that sends outbox rows through the channels, the
scheduler tick that generates and dispatches, and per-platform rate limiting."""
