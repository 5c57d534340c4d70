"""The staff console (issue 16): server-rendered pages under ``/staff`` for mentors,
commune officers and admins. A web surface at the channels' level, above
``bot.supervision`` (which it reads through); ``routes.py`` is mounted by ``bot.app``."""
