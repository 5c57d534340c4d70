"""``rasa`` as the product runs it: Rasa 3.6's own command line, minus measured waste.

Runs in Rasa's environment (``.venv-rasa``), never imported by the app:

    .venv-rasa/bin/python -m bot.runtime.rasa_server run --enable-api …   (same arguments as ``rasa``)

What it changes, each measured with py-spy on the running product (README "Performance"):

* Rasa validates every action-server response with ``jsonschema.validate(result, spec)``,
  which first checks the schema itself against the Draft 2020-12 meta-schema and builds
  a new validator: ≈ 33 ms of CPU per custom-action call, half of Rasa's busy time under
  load. The same validation with a validator built (and its schema checked) once costs
  ≈ 1.5 ms. Same validator class, same schema, same ``ValidationError`` (``best_match``,
  as ``jsonschema.validate`` raises it), same message suffix.

* The SQL tracker store builds an ORM object per stored event to read one column
  (``data``) back, and writes each new event through the ORM unit of work. Reading
  only that column, and inserting the turn's events with one executemany, gives the
  same rows in the same order; the queries (which events belong to the latest
  session, how many are stored) are Rasa's own.

* Rasa's ticket lock (used with the Redis lock store, i.e. several replicas) never
  lets a waiter in once the waiter's own ticket has expired while it waited: the
  holder's ticket expires, then the waiter's, the lock is left with no ticket and
  the waiter polls until its client gives up. It happens when a replica dies
  holding a conversation's lock and the turn is retried on another replica
  (measured: the retried turn hung until the gateway's timeout). A waiter whose
  ticket has expired now takes a new one; everything else is Rasa's loop.

Nothing else about Rasa's behaviour changes; the patch is checked against the
installed Rasa at start-up and refused (with a clear message) if Rasa's code
differs from what it was written for.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

# The body of the method we replace, as Rasa 3.6 has it: if it changes, do not patch blindly.
_EXPECTED_SOURCE_MARKERS = ("validate(result, self.action_response_format_spec())", "e.message +=")


def _patch_action_result_validation() -> None:
    import jsonschema
    from jsonschema.exceptions import ValidationError, best_match

    from rasa.core.actions import action as rasa_action

    remote = rasa_action.RemoteAction
    source = inspect.getsource(remote._validate_action_result)
    if not all(marker in source for marker in _EXPECTED_SOURCE_MARKERS):
        raise SystemExit("bot.runtime.rasa_server: Rasa's RemoteAction._validate_action_result changed; "
                         "review the patch before running this Rasa version")
    spec = remote.action_response_format_spec()
    cls = jsonschema.validators.validator_for(spec)
    cls.check_schema(spec)  # what validate() did on every call, once
    validator = cls(spec)
    docs = rasa_action.DOCS_BASE_URL

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{docs}/custom-actions"
        )
        raise error

    remote._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def _patch_sql_tracker_store() -> None:
    import itertools
    import json

    import sqlalchemy as sa

    from rasa.core import tracker_store as ts
    from rasa.shared.core.trackers import DialogueStateTracker

    store = ts.SQLTrackerStore
    expected = {
        store._retrieve: ("json.loads(event.data) for event in serialised_events", "DialogueStateTracker.from_dict"),
        store.save: ("await self.stream_events(tracker)", "self._additional_events(session, tracker)",
                     "session.add(", "data=json.dumps(data)"),
        store._additional_events: (".count()", "itertools.islice("),
    }
    for method, markers in expected.items():
        if not all(m in inspect.getsource(method) for m in markers):
            raise SystemExit(f"bot.runtime.rasa_server: Rasa's SQLTrackerStore.{method.__name__} changed; "
                             "review the patch before running this Rasa version")
    intent_key = ts.INTENT_NAME_KEY

    async def _retrieve(self: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id,
                                      fetch_events_from_all_sessions=fetch_events_from_all_sessions)
            events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data).all()]
            if self.domain and len(events) > 0:
                return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            return None

    def _additional_events(self: Any, session: Any, tracker: Any) -> Any:
        stored = (self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False)
                  .order_by(None).with_entities(sa.func.count(self.SQLEvent.id)).scalar())
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save(self: Any, tracker: Any) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                rows.append({
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(intent_key),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
            if rows:
                session.execute(sa.insert(self.SQLEvent.__table__), rows)
            session.commit()

    store._retrieve = _retrieve  # type: ignore[method-assign]
    store._additional_events = _additional_events  # type: ignore[method-assign]
    store.save = save  # type: ignore[method-assign]


def _patch_ticket_lock_wait() -> None:
    import asyncio
    import contextlib

    from rasa.core import lock_store as ls

    base = ls.LockStore
    for method, markers in {base.lock: ("self.issue_ticket(conversation_id, lock_lifetime)", "self.cleanup("),
                            base._acquire_lock: ("if not lock.is_locked(ticket):", "self.update_lock(")}.items():
        if not all(m in inspect.getsource(method) for m in markers):
            raise SystemExit(f"bot.runtime.rasa_server: Rasa's LockStore.{method.__name__} changed; "
                             "review the patch before running this Rasa version")

    @contextlib.asynccontextmanager
    async def lock(self: Any, conversation_id: str, lock_lifetime: float = ls.LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> Any:
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            while True:
                current = self.get_lock(conversation_id)
                if not current:  # as Rasa: the lock vanished (expired and deleted)
                    raise ls.LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
                if not current.is_locked(ticket):
                    break
                if current._ticket_for_ticket_number(ticket) is None:  # ours expired while waiting
                    ticket = self.issue_ticket(conversation_id, lock_lifetime)
                    continue
                await asyncio.sleep(wait_time_in_seconds)
                self.update_lock(conversation_id)
            yield current
        finally:
            self.cleanup(conversation_id, ticket)

    base.lock = lock  # type: ignore[method-assign]


def apply_patches() -> None:
    _patch_action_result_validation()
    _patch_sql_tracker_store()
    _patch_ticket_lock_wait()


def main(argv: list[str] | None = None) -> None:
    apply_patches()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
