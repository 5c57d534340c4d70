"""Specific questions get their own answer, not the topic block (issue 14 "Why"),
through the running product, with and without diacritics; and the held-out
question-level evaluation on the trained model meets its goals."""

from __future__ import annotations

import itertools

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.language]
_ids = itertools.count()

DETAILS = {"title": "Xem chi tiết", "payload": "/show_details"}
CHECK = {"title": "Kiểm tra điều kiện vay", "payload": "/check_loan"}


def ask(product, message: str) -> list[dict]:
    return product.say(f"question-{next(_ids)}", message)


CASES = [
    # (with diacritics, without, what the first bubble must say)
    ("Vay 50 triệu để chăn nuôi thì có phải thế chấp tài sản không?",
     "vay 50 trieu de chan nuoi thi co phai the chap tai san khong", "không phải thế chấp"),
    ("ko có tài sản thế chấp thì vay dc ko", "ko co tai san the chap thi vay dc ko", "không phải thế chấp"),
    ("vay dc bao nhiêu", "vay dc bao nhiu", "tối đa 100.000.000\u00a0₫"),
    ("vay ở đâu z bn", "vay o dau z bn", "tổ tiết kiệm và vay vốn"),
    ("Hiện nay người lao động vay vốn hỗ trợ tạo việc làm được tối đa bao nhiêu?",
     "hien nay nguoi lao dong vay von ho tro tao viec lam duoc toi da bao nhieu", "tối đa 200.000.000\u00a0₫"),
    ("Hồ sơ vay vốn theo Quyết định 22 gồm những gì?", "ho so vay von theo quyet dinh 22 gom nhung gi",
     "giấy đề nghị vay vốn"),
    ("mấy ngày thì có tiền", "may ngay thi co tien", "giải ngân"),
    ("e chưa có giấy chứng nhận thì sao", "e chua co giay chung nhan thi sao",
     "chưa vay theo Quyết định 22 được"),
]


@pytest.mark.parametrize("message, expected", [(m, e) for a, b, e in CASES for m in (a, b)])
def test_the_question_asked_is_answered_first(product, message, expected):
    replies = ask(product, message)
    first = replies[0]
    assert expected in first["text"]
    assert len(first["text"]) <= 500
    assert first["text"].splitlines()[-1].startswith("Căn cứ: ")
    # The answer's bubble, not the 700-character topic block nor a form question; at
    # most a second short bubble with the caution of an unverified answer (said once
    # per conversation, actions/common.answer_with_details).
    assert len(replies) == 1 or (len(replies) == 2 and len(replies[1]["text"]) <= 200
                                 and "kiểm chứng" in replies[1]["text"])


def test_a_rule_question_offers_the_check_and_the_details(product):
    [answer] = ask(product, "vay có phải thế chấp sổ đỏ không ạ")
    assert answer["buttons"] == [CHECK, DETAILS]


def test_a_residence_question_gets_its_answer(product):
    [answer] = ask(product, "dang ky tam tru mat bao lau")
    assert "trong 3 ngày làm việc" in answer["text"]


def test_a_vague_message_keeps_the_topic_answer(product):
    [answer] = ask(product, "vay vốn")
    assert answer["buttons"] == [CHECK, DETAILS]   # the topic answer, its details behind the button
    assert "Người đã chấp hành xong án phạt tù có thể vay vốn ưu đãi" in answer["text"]


@pytest.mark.parametrize("message, expected", [
    # "treo" is in the classifier's crisis examples ("treo cổ"): no crisis term is here, and the
    # question clearly wins (nlu.questions.CLASSIFIED_CRISIS).
    ("Tòa vừa tuyên tôi án treo, tôi phải đến đâu cam kết và trong mấy ngày?", "3 ngày làm việc"),
    ("toa vua tuyen toi an treo, phai den dau cam ket trong may ngay", "3 ngày làm việc"),
    # "doi may ngay" is "đợi mấy ngày" (how long to wait), not "đói mấy ngày" (hungry for days).
    ("xin phieu ly lich doi may ngay z", "10 ngày"),
])
def test_a_question_that_only_looks_like_a_crisis_is_answered(product, message, expected):
    replies = ask(product, message)
    said = " ".join(r["text"] for r in replies)
    assert "111" not in said and "115" not in said, said     # no crisis reply (its hotlines)
    assert expected in replies[0]["text"], said
    assert replies[0]["text"].splitlines()[-1].startswith("Căn cứ: "), said


def test_heldout_questions_meet_the_goals(trained_model):
    from bot.runtime.rasa_env import rasa_env, rasa_python
    import json
    import subprocess
    import tempfile

    from bot import PROJECT_ROOT

    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/q.json"
        subprocess.run([str(rasa_python()), "-m", "nlu.evaluate_questions", "--model", str(trained_model),
                        "--json", out, "--out", f"{tmp}/q.md"], cwd=PROJECT_ROOT, env=rasa_env(), check=True,
                       capture_output=True)
        r = json.loads(open(out, encoding="utf-8").read())
    # The question model alone (no gate): 95.8 / 95.8 / 95.1% on the final model of 2026-12-02
    # (151 questions, 1359 messages; README "Question-level answers"): this floor, a point
    # under it, guards against regressions.
    m = r["model_alone"]
    assert min(m["clean"], m["nodiac"], m["teencode"]) >= 0.94, m
    assert m["clean"] - m["nodiac"] <= 0.03, m
    # The product (intent routing + gate: crisis, erasure, a person… keep their flows) does
    # NOT meet the 95% goal: 93.2 / 93.6 / 91.2% measured once on the same model. This is
    # that measurement minus about a point, not the goal.
    p = r["product"]
    assert p["clean"] >= 0.92, p
    assert p["nodiac"] >= 0.92, p
    assert p["teencode"] >= 0.90, p
    # A wrong specific answer is worse than the topic answer. The goal is at most 3% of the
    # set: 33 of 1359 (2.4%) on the final model of 2026-12-02 (42 of 1278, 3.3%, the day before).
    assert r["wrong_answers"] <= 0.03 * r["messages"], r["wrong_answers"]
    assert p["clean"] - p["nodiac"] <= 0.03, p
