"""The knowledge base the actions answer from, loaded (and schema-checked) when
the action server starts: a malformed file stops it with a message naming the
file, entry and field."""

from bot.domain.knowledge import KnowledgeBase

KNOWLEDGE = KnowledgeBase.load()
