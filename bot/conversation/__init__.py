"""The conversation: the Rasa client, one turn (``Core``), and the inbound path
(de-duplication of webhook updates → Rasa → replies into the outbox)."""
