"""The custom Rasa 3.6 graph components (``nlu.components``, Rasa environment only)
and the held-out evaluation (``nlu.evaluate``): thin adapters over the pure
Python in ``vietnamese/`` (text folding, crisis terms, entity parsing, clock)."""
