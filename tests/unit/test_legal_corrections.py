"""Every point of section 0 of shared/knowledge/legal-facts.md (audit of
2026-11-30) as a check on the knowledge data and the code that reads it."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.domain.knowledge import KNOWLEDGE_DIR, Formatters, KnowledgeBase
from bot.i18n import format_date, format_money, format_period, format_rate
from bot.supervision.reminders import quarterly_report_days

D = dt.date
TODAY = D(2026, 11, 30)
KB = KnowledgeBase.load()
FMT = Formatters(money=format_money, date=format_date, period=format_period, rate=format_rate)


def text(entry_id: str, day: dt.date = TODAY) -> str:
    """What the answer says: the first bubble and the details behind "Xem chi tiết"."""
    answer = KB.render(KB.entry(entry_id, day), day, FMT)
    return f"{answer.text}\n{answer.details}"


def test_qd22_five_years_run_to_the_loan_itself():
    assert "phải được vay (giải ngân) trong vòng 5 năm" in text("loan.qd22")
    assert "khoản 2 điểm a" in KB.fact("qd22.apply_within", TODAY).sources[0].clause
    assert not KB.fact("qd22.apply_margin", TODAY).verified  # a setting, not the law: said so


def test_qd22_covers_prison_and_amnesty_only():
    assert set(KB.value("qd22.penalties", TODAY)) == {"prison", "life", "amnesty"}
    assert "án treo hoặc hình phạt không phải tù không thuộc chương trình này" in text("loan.qd22")


def test_early_release_completes_at_the_end_of_probation():
    f = KB.fact("qd22.early_release_certificate", TODAY)
    assert f.verified and any(s.article == "Điều 59" for s in f.sources)
    assert "chỉ được cấp giấy chứng nhận khi hết thời gian thử thách" in text("loan.qd22")


def test_the_pronounced_sentence_counts():
    assert KB.fact("blhs.d73.pronounced", TODAY).verified
    assert "theo mức án Tòa đã tuyên" in text("expungement.overview")


def test_negligent_light_crimes_and_exemption_leave_no_record():
    rules = KB.value("blhs.d69.no_record", TODAY)
    assert {"intent": "negligent", "classes": ["less_serious", "serious"]} in rules and {"penalty": "exempt"} in rules
    assert "khoản 1 Điều 260" in text("expungement.overview")


def test_several_convictions_restart_the_old_period():
    assert KB.fact("blhs.d73.restart", TODAY).verified
    assert "thời hạn của án cũ được tính lại" in text("expungement.overview")


def test_under_18_rules_are_unverified_since_the_juvenile_justice_law():
    assert KB.fact("blhs.d107.periods", D(2025, 6, 1)).verified
    assert not KB.fact("blhs.d107.periods", TODAY).verified
    assert not KB.fact("blhs.d107.no_record_below_age", TODAY).verified


def test_job_creation_loan_needs_full_civil_capacity():
    t = text("loan.jobs.nd338")
    assert "từ đủ 15 tuổi" not in t and "năng lực hành vi dân sự đầy đủ (từ đủ 18 tuổi)" in t


def test_one_programme_per_purpose_is_said_beside_both_loans():
    assert "cho cùng mục đích" in text("loan.qd22") and "cho cùng mục đích" in text("loan.jobs.nd338")


def test_residence_answer_names_the_other_deletion_grounds():
    t = text("residence.after_prison")
    assert "vẫn được giữ" not in t and "nhà đã bán" in t


def test_no_district_level_offices_in_answers_after_july_2025():
    for day in (D(2025, 7, 1), D(2026, 1, 1), D(2026, 7, 1), TODAY):
        for e in KB.entries:
            if e.valid_on(day):
                rendered = KB.render(e, day, FMT).text
                assert not re.search(r"(?i)\b(cấp huyện|công an huyện|ngân hàng chính sách xã hội huyện)\b", rendered), e.id
        for item in KB.value("loans.where", day):
            assert "huyện" not in item


def test_lltp_online_fees_in_2025_and_full_rates_in_2026():
    assert (KB.value("lltp.fee_online", D(2025, 6, 1)), KB.value("lltp.fee_online_reduced", D(2025, 6, 1))) == (170_000, 80_000)
    with pytest.raises(KeyError):
        KB.value("lltp.fee_online", D(2026, 1, 1))
    t2025 = text("lltp.where.police", D(2025, 6, 1))
    assert "170.000" in t2025 and "80.000" in t2025 and "thân nhân liệt sỹ" in t2025 and "xã biên giới" in t2025
    assert "trẻ em" in text("lltp.where.police", D(2026, 3, 1))


def test_record_number_2_lists_every_conviction():
    for day in (D(2025, 6, 1), TODAY):
        entry = "lltp.where.police" if day < D(2026, 7, 1) else "lltp.where.2026"
        assert "Phiếu số 2 ghi mọi bản án, kể cả án đã được xóa án tích" in text(entry, day)


def test_reporting_duty_only_for_community_sentences():
    assert set(KB.value("duties.community_sentences", TODAY)) == {"suspended", "non_custodial", "early_release",
                                                                   "probation_supervision"}
    assert "không có nghĩa vụ báo cáo định kỳ" in text("duties.2026")
    assert "không phải trình báo định kỳ" in text("support.nd49")


def test_community_sentence_duties_after_july_2026_point_to_the_commune_police():
    """From 01/07/2026 Luật THAHS 2025 gives the operational work to the công an xã
    (section 6): a duty answer valid then names the 2019 law for its list and
    sends the person to the công an xã, unverified, never "báo cáo ... với UBND xã"
    as today's rule."""
    ids = ("duty.suspended_duties", "duty.early_release_duties", "duty.noncustodial_duties",
           "duty.monthly_report", "duty.move_residence", "duty.leave_commune")
    for entry_id in ids:
        before, after = KB.entry(entry_id, D(2026, 6, 30)), KB.entry(entry_id, D(2026, 7, 1))
        assert before is not after, entry_id
        assert not after.verified and "công an xã" in after.confirm_with, entry_id
        said = text(entry_id, D(2026, 7, 1))
        assert "công an xã" in said, entry_id
        for sentence in re.split(r"(?<=[.;])\s+", said):
            if re.search(r"báo cáo.*với UBND xã", sentence):
                assert sentence.startswith(("Trước đó", "Theo Luật Thi hành án hình sự 2019")), (entry_id, sentence)


def test_decree_231_is_never_a_verified_source_nor_cited_for_absence_or_travel():
    for item in [*KB.facts, *KB.entries]:
        if any("231/2026" in s.document for s in item.sources):
            assert not item.verified, item.id
    duties = KB.entry("duties.2026", TODAY)
    assert not any("231/2026" in s.document for s in duties.sources)


def test_quarterly_report_days_are_knowledge_data():
    assert KB.value("tt10.quarterly_report_days", TODAY) == "P5D"
    assert quarterly_report_days(D(2026, 10, 1)) == 5
    root = KNOWLEDGE_DIR.parent.parent
    assert "QUARTERLY_REPORT_DAYS" not in (root / "bot" / "supervision" / "reminders.py").read_text(encoding="utf-8")
    assert "5 ngày đầu của tháng đầu quý" in text("notice.quarterly_report")
