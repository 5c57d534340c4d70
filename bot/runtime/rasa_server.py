"""``rasa`` as the product runs it: Rasa 3.6's own command line, minus measured waste.

Runs in Rasa's environment (``.venv-rasa``), never imported by the app:

    .venv-rasa/bin/python -m bot.runtime.rasa_server run --enable-api …   (same arguments as ``rasa``)

What it changes, each measured with py-spy on the running product (README "Performance"):

* Rasa validates every action-server response with ``jsonschema.validate(result, spec)``,
  which first checks the schema itself against the Draft 2020-12 meta-schema and builds
  a new validator: ≈ 33 ms of CPU per custom-action call, half of Rasa's busy time under
  load. The same validation with a validator built (and its schema checked) once costs
  ≈ 1.5 ms. Same validator class, same schema, same ``ValidationError`` (``best_match``,
  as ``jsonschema.validate`` raises it), same message suffix. A response is first checked
  against an equivalent schema that tests each event against its own type's schema
  rather than all 23 (``_dispatching_validator``); only a response it refuses goes through
  Rasa's schema, for Rasa's own error.

* The SQL tracker store builds an ORM object per stored event to read one column
  (``data``) back, and writes each new event through the ORM unit of work. Reading
  only that column, and inserting the turn's events with one executemany, gives the
  same rows in the same order; the queries (which events belong to the latest
  session, how many are stored) are Rasa's own.

* Rasa deserialises each stored event by looking its type up among *all* subclasses
  of ``Event`` (``Event.resolve_by_type`` walks the class tree every time): a third of
  the cost of loading a long conversation. The lookup is memoised (same classes, same
  first match, unknown names still go through Rasa's own code).

* A conversation's tracker grows by ~6 events a turn and Rasa loads, replays and
  featurises the whole session every turn, and sends it all to the action server:
  at turn 200 a turn cost ×5 the CPU of turn 1. When the latest session holds more
  than ``LOIVE_TRACKER_COMPACT_AT`` events (default 80), the save that ends a turn
  also writes a *compacted* session after it, with Rasa's own session mechanism: a
  ``session_started`` event, the state the conversation had before its last
  ``LOIVE_TRACKER_KEEP_TURNS`` user turns (default 6: more than the policies' history
  of 3, and with the next message the 6 turns the crisis actions read back) as ``slot`` / ``active_loop`` events,
  then copies of those turns' events. Rasa reads only the latest session, so the
  next turn replays that tail and reaches the same slots, form and recent history.
  The whole history (Rasa's HTTP API, all sessions) leaves the compactions' rows out,
  so it shows each event once. Nothing is deleted: retention (bot.supervision.reminders.purge_trackers) and
  erasure (bot.conversation.core.wipe_conversations) delete by the rows' timestamp,
  which for the copies is the compaction time.

* The intent classifier (scikit-learn's LogisticRegression) multiplies every message by
  ``coef_.T``; stored row-major, scipy copies the whole matrix to make it contiguous on
  every call. Loaded column-major it does not (the same numbers, ~10× less time; the
  question model does the same, nlu/questions.py).

* Each Rasa worker creates the tracker tables as it starts; on a fresh database two
  race and the loser logs the whole CREATE TABLE statement. The creation is
  serialised (a PostgreSQL advisory lock; a file lock beside a SQLite file).

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
import os
import sys
import time
from typing import Any

# Tracker compaction (see above): a latest session longer than this many events is compacted
# at the end of a turn, keeping this many user turns.
COMPACT_AT = int(os.environ.get("LOIVE_TRACKER_COMPACT_AT", "80"))
KEEP_TURNS = int(os.environ.get("LOIVE_TRACKER_KEEP_TURNS", "6"))
# Marks a compaction's session_started event; its rows (that event, the state, the copies)
# all have its timestamp in the row's timestamp column.
COMPACTED = "loive_compacted"

# The body of the method we replace, as Rasa 3.6 has it: if it changes, do not patch blindly.
_EXPECTED_SOURCE_MARKERS = ("validate(result, self.action_response_format_spec())", "e.message +=")


def _dispatching_validator(spec: dict[str, Any], cls: Any) -> Any:
    """A check equivalent to Rasa's action-response schema that tests each event against
    its own type's schema only. Rasa's tests every event against all 23 event schemas
    (``oneOf``), which differ by the required ``event`` name alone; so an event is valid
    for the one schema its name selects exactly when it is valid for ``oneOf`` (names
    outside the list are refused by an ``enum``). Returns ``is_valid(result)``, or None
    when the schema is not of that shape."""
    import copy
    import json

    if "$ref" in json.dumps(spec):
        return None
    top = copy.deepcopy(spec)
    try:
        items = top["properties"]["events"]["items"]
        branches = items.pop("oneOf")
        names = [branch["properties"]["event"]["const"] for branch in branches]
        if len(set(names)) != len(names) or "event" not in items.get("required", []) \
                or items.get("type") != "object":
            return None
        items["properties"]["event"] = {**items["properties"]["event"], "enum": names}
    except (KeyError, TypeError, AttributeError):
        return None
    outer = cls(top)
    by_name = {name: cls(branch) for name, branch in zip(names, branches)}

    def is_valid(result: Any) -> bool:
        # ``outer`` first: then ``events``, if present, is a list of objects with a known name.
        return outer.is_valid(result) and all(by_name[event["event"]].is_valid(event)
                                              for event in result.get("events") or [])

    return is_valid


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
    quick = _dispatching_validator(spec, cls) or validator.is_valid
    docs = rasa_action.DOCS_BASE_URL

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if quick(result):
            return True
        error = best_match(validator.iter_errors(result))   # Rasa's own error for what is invalid
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
            if not fetch_events_from_all_sessions:
                events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data).all()]
            else:   # the whole history (Rasa's HTTP API): each event once, without compactions
                rows = query.with_entities(self.SQLEvent.timestamp, self.SQLEvent.data).all()
                events = [json.loads(data) for _, data in rows]
                compactions = {e["timestamp"] for e in events
                               if e.get("event") == "session_started" and (e.get("metadata") or {}).get(COMPACTED)}
                events = [e for (stamp, _), e in zip(rows, events) if stamp not in compactions]
            if self.domain and len(events) > 0:
                return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            return None

    def _compaction(self: Any, tracker: Any, in_session: int) -> list[Any]:
        """The events of a compacted session for ``tracker`` (whose latest session holds
        ``in_session`` events once this save is done), or [] when it is not time yet."""
        from rasa.shared.core.events import (ActionExecuted, ActionExecutionRejected, ActiveLoop,
                                             LoopInterrupted, SessionStarted, SlotSet, UserUttered)

        events = list(tracker.events)
        if in_session <= COMPACT_AT or not events or not isinstance(events[-1], ActionExecuted) \
                or events[-1].action_name != "action_listen":
            return []          # not long enough, or a turn still under way
        cut, users = None, 0   # where the kept turns start: an action_listen right before a user message
        for i in range(len(events) - 1, 0, -1):
            if isinstance(events[i], UserUttered):
                users += 1
                before = events[i - 1]
                if users >= KEEP_TURNS and isinstance(before, ActionExecuted) \
                        and before.action_name == "action_listen":
                    cut = i - 1
                    break
        start = next((i for i in range(len(events) - 1, -1, -1) if isinstance(events[i], SessionStarted)), 0)
        if cut is None or cut <= start + 1:
            return []
        state = DialogueStateTracker.from_events(tracker.sender_id, events[:cut], self.domain.slots)
        at = max(time.time(), max(e.timestamp for e in events) + 0.001)
        head: list[Any] = [SessionStarted(timestamp=at, metadata={COMPACTED: True})]
        head += [SlotSet(slot.name, slot.value, timestamp=at) for slot in state.slots.values() if slot.has_been_set]
        if state.active_loop is not None:
            head.append(ActiveLoop(state.active_loop.name, timestamp=at))
            if state.active_loop.is_interrupted:
                head.append(LoopInterrupted(True, timestamp=at))
            if state.active_loop.rejected:
                head.append(ActionExecutionRejected(state.active_loop.name, timestamp=at))
        return [(e, at) for e in head] + [(e, at) for e in events[cut:]]

    def _row(sender_id: str, event: Any, column_timestamp: float | None = None) -> dict[str, Any]:
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp") if column_timestamp is None else column_timestamp,
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(intent_key),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    async def save(self: Any, tracker: Any) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            saved = getattr(tracker, "_loive_saved", None)   # set once this tracker was compacted
            stored = saved if saved is not None else (
                self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False)
                .order_by(None).with_entities(sa.func.count(self.SQLEvent.id)).scalar())
            new = list(itertools.islice(tracker.events, stored, len(tracker.events)))
            rows = [_row(tracker.sender_id, event) for event in new]
            # Copies keep their own data (and timestamps); the row's timestamp column, which
            # Rasa's latest-session query reads, is the compaction's.
            compacted = _compaction(self, tracker, stored + len(new)) if saved is None else []
            rows += [_row(tracker.sender_id, event, at) for event, at in compacted]
            if rows:
                session.execute(sa.insert(self.SQLEvent.__table__), rows)
            session.commit()
        if compacted or saved is not None:
            tracker._loive_saved = len(tracker.events)

    store._retrieve = _retrieve  # type: ignore[method-assign]
    store.save = save  # type: ignore[method-assign]


def _patch_event_type_lookup() -> None:
    from rasa.shared.core import events as ev

    original = ev.Event.resolve_by_type
    if "all_subclasses(Event)" not in inspect.getsource(original):
        raise SystemExit("bot.runtime.rasa_server: Rasa's Event.resolve_by_type changed; "
                         "review the patch before running this Rasa version")
    known: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = known.get(type_name)
        if cls is None:
            cls = original(type_name, default)
            # Only a class found among Event's subclasses is remembered (not a default,
            # not the None of an old "topic" event).
            if cls is not None and cls is not default and getattr(cls, "type_name", None) == type_name:
                known[type_name] = cls
        return cls

    ev.Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


def _patch_intent_classifier_layout() -> None:
    import numpy as np

    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier as lrc

    original = lrc.load.__func__
    if "component.clf = classifier" not in inspect.getsource(original):
        raise SystemExit("bot.runtime.rasa_server: Rasa's LogisticRegressionClassifier.load changed; "
                         "review the patch before running this Rasa version")

    def load(cls: Any, *args: Any, **kwargs: Any) -> Any:
        component = original(cls, *args, **kwargs)
        if hasattr(component.clf, "coef_"):
            component.clf.coef_ = np.asfortranarray(component.clf.coef_)
        return component

    lrc.load = classmethod(load)  # type: ignore[method-assign]


def _patch_tracker_table_creation() -> None:
    """Rasa's workers (and replicas) each create the tracker tables when they start; on a
    fresh database two of them race, and the loser logs the whole CREATE TABLE statement
    (as an error, or a warning and a 5 s retry). Here the creation is serialised: a
    PostgreSQL advisory lock across machines, a file lock beside a SQLite file."""
    import contextlib
    import fcntl

    import sqlalchemy as sa

    from rasa.core import tracker_store as ts

    if "self.Base.metadata.create_all(self.engine)" not in inspect.getsource(ts.SQLTrackerStore.__init__):
        raise SystemExit("bot.runtime.rasa_server: Rasa's SQLTrackerStore.__init__ changed; "
                         "review the patch before running this Rasa version")
    metadata = ts.SQLTrackerStore.Base.metadata
    original = metadata.create_all

    @contextlib.contextmanager
    def serialised(bind: Any) -> Any:
        if bind.dialect.name == "postgresql":
            with bind.connect() as conn:
                conn.execute(sa.text("SELECT pg_advisory_lock(hashtext('loive rasa tracker tables'))"))
                try:
                    yield conn
                finally:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext('loive rasa tracker tables'))"))
        elif bind.dialect.name == "sqlite" and bind.url.database not in (None, "", ":memory:"):
            with open(f"{bind.url.database}.tables-lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                yield bind
        else:
            yield bind

    def create_all(bind: Any = None, tables: Any = None, checkfirst: bool = True) -> None:
        if bind is None:
            return original(bind=bind, tables=tables, checkfirst=checkfirst)
        with serialised(bind) as target:
            original(bind=target, tables=tables, checkfirst=checkfirst)

    metadata.create_all = create_all  # type: ignore[method-assign]


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
    _patch_event_type_lookup()
    _patch_intent_classifier_layout()
    _patch_tracker_table_creation()
    _patch_ticket_lock_wait()


def main(argv: list[str] | None = None) -> None:
    apply_patches()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
