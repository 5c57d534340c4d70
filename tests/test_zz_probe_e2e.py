import itertools
import pytest
pytestmark = pytest.mark.stack
_ids = itertools.count()

FLOWS = [
    ["Tôi bị tù 4 năm, được tha tù trước thời hạn có điều kiện ngày 01/03/2024, khi nào được xóa án tích?", "01/03/2026", '/inform{"age_group": "adult"}', "/deny", "/deny", "/deny", "/affirm"],
    ["toi bi tu 4 nam, duoc tha tu truoc thoi han ngay 01/03/2024, bao gio xoa an tich", "01/03/2026", "tren 18", "khong", "khong", "khong", "da xong"],
    ["án treo 2 năm, hết thời gian thử thách ngày 15/03/2024, bao giờ xóa án tích", "30", "không", "không", "không", "đã xong"],
    ["tôi bị 3 năm tù vì trộm cắp, ra tù 01/06/2023, xóa án tích khi nào", "25 tuổi", "không", "không", "không", "rồi"],
    ["Tôi lái xe gây tai nạn chết người, bị 3 năm tù, ra tù 01/06/2024. Tôi có án tích không?", "40", "khoản 1", "không"],
    ["Tôi hưởng án treo, muốn vay vốn làm ăn"],
    ["toi huong an treo muon vay von lam an 50 trieu"],
    ["/check_loan", '/inform{"loan_purpose": "production"}', '/inform{"penalty_type": "suspended"}'],
    ["Tôi ra tù ngày 01/12/2021, muốn vay 100 triệu mở quán", "có"],
    ["vay giải quyết việc làm cần điều kiện gì"],
    ["tôi có phải đi trình diện hàng tháng không"],
]


@pytest.mark.parametrize("flow", FLOWS)
def test_probe(product, flow):
    user = f"probe-{next(_ids)}"
    for t in flow:
        r = product.say(user, t)
        print(">>", t)
        for x in r:
            print("   ", x["text"].replace("\n", "\n    "), [b["title"] for b in x.get("buttons") or []])
    assert False
