"""Domain rules in plain Python: the knowledge base, period arithmetic, the
expungement calculator and the loan pre-check. No Rasa, no database, no I/O
beyond reading the knowledge files; every legal figure comes from
``data/knowledge``."""
