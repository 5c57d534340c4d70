"""Channels: each turns its platform's messages into ``bot.gateway.core.Inbound``
and renders replies in its own way."""
