"""The gateway: one ASGI app that hosts every channel's webhook."""
