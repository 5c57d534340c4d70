"""Role scoping: a mentor sees only their supervisees, an officer only their commune."""

from __future__ import annotations

import os

from bot.supervision import people


def test_mentor_officer_and_supervisee_scopes(s):
    a = people.add_commune(s, f"Xã A {os.urandom(3).hex()}", "test")
    b = people.add_commune(s, f"Xã B {os.urandom(3).hex()}", "test")
    mentor = people.add_person(s, "mentor", "Chị Lan", a.name, "test")
    other_mentor = people.add_person(s, "mentor", "Anh Ba", a.name, "test")
    officer_a = people.add_person(s, "officer", "CA xã A", a.name, "test")
    officer_b = people.add_person(s, "officer", "CA xã B", b.name, "test")
    mine = people.add_person(s, "supervisee", "Người 1", a.name, "test", mentor_id=mentor.id)
    theirs = people.add_person(s, "supervisee", "Người 2", a.name, "test", mentor_id=other_mentor.id)
    far = people.add_person(s, "supervisee", "Người 3", b.name, "test")

    assert {p.id for p in people.visible_people(s, mentor.id)} == {mine.id}
    assert people.may_see(s, mentor.id, mine.id) and not people.may_see(s, mentor.id, theirs.id)
    in_a = {p.id for p in people.visible_people(s, officer_a.id)}
    assert {mine.id, theirs.id, mentor.id} <= in_a and far.id not in in_a
    assert {p.id for p in people.visible_people(s, officer_b.id)} >= {far.id}
    assert mine.id not in {p.id for p in people.visible_people(s, officer_b.id)}
    assert [p.id for p in people.visible_people(s, mine.id)] == [mine.id]

    people.assign_mentor(s, mine.id, other_mentor.id, "test")  # reassigned: the old mentor loses sight
    assert people.visible_people(s, mentor.id) == []
