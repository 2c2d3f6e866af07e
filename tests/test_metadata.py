"""Metadata from an article's own text: the seeds, every date format, and the traps.

Apart from the seed articles in ``corpus/``, the texts here are short synthetic ones written
for the test (people's names are the secretaries table's or made up)."""

from datetime import date
from pathlib import Path

import pytest

from search.metadata import extract

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def seed(prefix: str) -> str:
    return next(CORPUS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


# --- the five seeds -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "prefix, province, province_2025, secretary, day",
    [
        ("000", "Điện Biên", "Điện Biên", "Trần Quốc Cường", "2023-04-07"),
        ("001", "Điện Biên", "Điện Biên", "Trần Quốc Cường", "2023-02-27"),
        ("002", "Bắc Kạn", "Thái Nguyên", "Hoàng Duy Chinh", "2024-04-08"),
        ("003", "Lạng Sơn", "Lạng Sơn", "Nguyễn Quốc Đoàn", "2022-12-09"),
        ("004", "Sơn La", "Sơn La", "Nguyễn Hữu Đông", "2020-06-29"),
    ],
)
def test_seed_facets(prefix, province, province_2025, secretary, day):
    values = extract(seed(prefix)).values()
    assert (values["province"], values["province_2025"], values["secretary"], values["date"]) == \
        (province, province_2025, secretary, day)


@pytest.mark.parametrize(
    "prefix, title, outlet, conference, term",
    [
        ("000", "Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 13", "Báo Điện Biên Phủ", 13, "XIV"),
        ("001", "Bí thư Tỉnh ủy Trần Quốc Cường làm việc tại huyện Tủa Chùa",
         "Đài PT-TH Điện Biên (Điện Biên TV)", None, None),
        ("002", "Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 15 (khóa XII)", None, 15, "XII"),
        ("003", "Ban Chấp hành Đảng bộ tỉnh triển khai nhiệm vụ năm 2023", "Báo Lạng Sơn", 10, "XVII"),
        ("004", "Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 21", None, 21, None),
    ],
)
def test_seed_other_fields(prefix, title, outlet, conference, term):
    values = extract(seed(prefix)).values()
    assert (values["title"], values["outlet"], values["conference"], values["term"]) == \
        (title, outlet, conference, term)


def test_seed_002_names_its_province_only_through_its_secretary():
    meta = extract(seed("002"))
    assert meta.province.evidence[0] == "Hoàng Duy Chinh, named Bí thư, led it on 2024-04-08"


def test_every_field_records_its_evidence():
    meta = extract(seed("000"))
    assert meta.date.evidence == ["header line '18:50 - Thứ Sáu, 07/04/2023 Lượt xem: 4938 In bài viết'"]
    assert meta.province.evidence[0] == "dateline 'ĐBP -' of Báo Điện Biên Phủ"
    assert meta.secretary.evidence[1] == "secretary of Điện Biên per https://baotainguyenmoitruong.vn/print/346881.html"
    assert meta.author.evidence == ["closing line 'Tin, ảnh: Quang Long'"]


def test_values_and_json():
    meta = extract("Một tiêu đề đủ dài\n\nSáng 8/4, trời mưa.", title="Một tiêu đề đủ dài",
                   date_hint="2024-04-08", url="https://example.vn/a")
    assert meta.values() == {"title": "Một tiêu đề đủ dài", "date": "2024-04-08", "province": None,
                             "province_2025": None, "secretary": None, "outlet": None,
                             "url": "https://example.vn/a", "conference": None, "term": None, "author": None}
    assert meta.as_json()["date"] == {"value": "2024-04-08", "evidence": ["given date '2024-04-08'"]}
    assert meta.as_json()["province"] == {"value": None, "evidence": []}


# --- dates --------------------------------------------------------------------------------

BODY = "\n\nBan Chấp hành Đảng bộ tỉnh họp phiên thường kỳ."


@pytest.mark.parametrize(
    "header, expected",
    [
        ("18:50 - Thứ Sáu, 07/04/2023 Lượt xem: 4938 In bài viết", date(2023, 4, 7)),
        ("Thứ Hai, 27/02/2023, 18:04 [GMT+7]", date(2023, 2, 27)),
        ("08/04/2024", date(2024, 4, 8)),
        ("Thứ 6, 09.12.2022 | 10:53:17", date(2022, 12, 9)),
        ("Ngày 29 tháng 06 năm 2020", date(2020, 6, 29)),
        ("Cập nhật ngày 8 tháng 12 năm 2022", date(2022, 12, 8)),
        ("2023-04-07T08:30:00+07:00", date(2023, 4, 7)),
        ("Thứ Ba, 7-3-2023", date(2023, 3, 7)),
    ],
)
def test_header_date_formats(header, expected):
    assert extract(f"Tiêu đề bài viết về hội nghị\n{header}{BODY}").date.value == expected


@pytest.mark.parametrize(
    "lead, kwargs, expected",
    [
        ("Ngày 16/11/2018, tại Hà Nội đã diễn ra lễ kỷ niệm.", {}, date(2018, 11, 16)),
        ("ĐBP - Sáng 8/4, Ban Chấp hành họp.", {"url": "https://baodienbienphu.info.vn/2024/04/hoi-nghi"},
         date(2024, 4, 8)),
        ("Chiều nay (7/4), Ban Chấp hành họp.", {"date_hint": "2023"}, date(2023, 4, 7)),
        ("Sáng 18-6, Ban Chấp hành họp.", {"url": "https://example.vn/2019-06-18/bai-viet.html"},
         date(2019, 6, 18)),
    ],
)
def test_lead_dates_take_the_year_from_around_the_text(lead, kwargs, expected):
    assert extract(f"Tiêu đề bài viết về hội nghị\n{lead}", **kwargs).date.value == expected


def test_lead_day_month_takes_the_year_of_a_header_line():
    text = "Tiêu đề bài viết về hội nghị\nNăm 2023\nChiều nay (7/4), Ban Chấp hành Đảng bộ tỉnh họp."
    assert extract(text).date.value == date(2023, 4, 7)


@pytest.mark.parametrize(
    "lead",
    [
        "Sáng 8/4, Ban Chấp hành họp, nhìn lại giai đoạn 2010-2015 và từ năm 1994.",  # no year around it
        "Văn bản dẫn Quyết định số 12 ngày 17-5-2013 của Tỉnh ủy.",  # a date cited mid-sentence
        "Ông sinh ngày 09/02/1907 tại làng Hành Thiện.",  # a birthday
    ],
)
def test_no_date_rather_than_a_guess(lead):
    assert extract(f"Tiêu đề bài viết về hội nghị\n{lead}").date.value is None


def test_given_date_wins():
    assert extract("Tiêu đề\n08/04/2024", date_hint="2013-10-23T11:39:00").date.value == date(2013, 10, 23)


# --- title --------------------------------------------------------------------------------

def test_title_skips_page_boilerplate():
    text = ("PublishingPortal - Block_BanTin_Toolbar\n\n08/04/2024\nTăng cỡ chữ Giảm cỡ chữ\n634 lượt xem\n"
            "Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 15\nSáng 8/4, Ban Chấp hành họp.")
    meta = extract(text)
    assert (meta.title.value, meta.title.evidence) == \
        ("Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 15", ["line 6: first line that is not page boilerplate"])


# --- province -----------------------------------------------------------------------------

def province(text: str, **kwargs) -> object:
    return extract(text, **kwargs).province.value


def test_dateline_alone_names_the_province():
    assert province("Hội nghị tổng kết công tác năm\nĐBP - Sáng 8/4, Ban Chấp hành Đảng bộ tỉnh họp.") \
        == "Điện Biên"


def test_outlet_domain_in_the_trailer_names_the_province():
    text = "Hội nghị tổng kết công tác năm\nSáng 8/4, Ban Chấp hành Đảng bộ tỉnh họp.\n\nĐức Trung/DIENBIENTV.VN"
    assert province(text) == "Điện Biên"


def test_passing_mention_of_another_province_does_not_win():
    text = ("Tỉnh ủy Điện Biên tổng kết công tác năm\n"
            "ĐBP - Sáng 8/4, Tỉnh ủy Điện Biên họp. Dự hội nghị có đoàn công tác của tỉnh Lai Châu. "
            "Hội nghị nghe báo cáo kinh nghiệm của Sơn La.")
    assert province(text) == "Điện Biên"


def test_no_province_evidence_gives_none():
    meta = extract("Giá vàng hôm nay tăng mạnh\nSáng nay, giá vàng trong nước tăng thêm 200 nghìn đồng.")
    assert (meta.province.value, meta.province_2025.value, meta.secretary.value) == (None, None, None)


def test_a_round_up_of_several_provinces_gives_none():
    text = ("Nhiều tỉnh có tân Bí thư Tỉnh ủy\n"
            "Sáng 24/10, Đại hội Đảng bộ tỉnh Tuyên Quang bầu ông Nguyễn Văn An làm Bí thư Tỉnh ủy Tuyên Quang. "
            "Tỉnh ủy Tuyên Quang cũng bầu Ban Thường vụ gồm 15 đồng chí, trong đó có 3 đồng chí nữ và 2 đồng "
            "chí trẻ tuổi. Đại hội diễn ra trong ba ngày với nhiều nội dung quan trọng về phát triển kinh tế, "
            "xã hội và quốc phòng. Đảng bộ tỉnh Đồng Tháp bầu ông Trần Văn Bình; Đồng Tháp kết thúc đại hội sớm. "
            "Tỉnh ủy Quảng Bình có Bí thư mới; Quảng Bình bầu đủ Ban Thường vụ. "
            "Tỉnh ủy Hà Giang họp phiên thứ nhất; Hà Giang bầu xong Ban Thường vụ. "
            "Tỉnh ủy Cà Mau họp phiên thứ nhất; Cà Mau bầu xong Ban Thường vụ.")
    meta = extract(text)
    assert (meta.province.value, meta.secretary.value) == (None, None)
    assert meta.province.evidence == ["the text speaks of many provinces: "
                                      "{'Tuyên Quang': 8.0, 'Đồng Tháp': 2.5, 'Quảng Bình': 2.5, 'Hà Giang': 2.5}"]


def test_evidence_split_between_two_provinces_gives_none():
    text = ("Hai tỉnh ký kết hợp tác\nSáng 8/4, Tỉnh ủy Sơn La và Tỉnh ủy Hoà Bình ký kết chương trình "
            "hợp tác. UBND tỉnh Sơn La và UBND tỉnh Hoà Bình cùng dự.")
    assert province(text) is None


def test_provinces_named_in_a_row_count_as_a_list():
    text = ("Hội nghị trực tuyến về phòng chống thiên tai\n"
            "Sáng 8/4, lãnh đạo TP Hà Nội, Hải Phòng, tỉnh Quảng Ninh, Hải Dương dự hội nghị tại TP. Hà Nội.")
    assert province(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Ba công trình nhận giải thưởng khoa học\nÔng Bùi Văn A, Bí thư Trung ương Đoàn TNCS Hồ Chí Minh, trao giải.",
        "Học tập và làm theo tư tưởng Hồ Chí Minh\nCán bộ học tập tư tưởng Hồ Chí Minh trong năm nay.",
        "Phó Thủ tướng Trương Hoà Bình làm việc với bộ ngành\nPhó Thủ tướng Trương Hoà Bình chủ trì họp.",
    ],
)
def test_names_that_are_not_provinces(text):
    assert province(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Thành ủy TP.HCM họp phiên thường kỳ\nSáng 8/4, Thành ủy TP.HCM họp. UBND TP.HCM báo cáo.", "Hồ Chí Minh"),
        ("TT-Huế kiện toàn nhân sự\nSáng 8/4, Tỉnh ủy Thừa Thiên - Huế họp, UBND tỉnh Thừa Thiên Huế báo cáo.",
         "Huế"),
        ("Hoà Bình kiện toàn nhân sự\nSáng 8/4, Tỉnh ủy Hòa Bình họp, UBND tỉnh Hoà Bình báo cáo.", "Hòa Bình"),
        ("Bắc Cạn kiện toàn nhân sự\nSáng 8/4, Tỉnh ủy Bắc Cạn họp, UBND tỉnh Bắc Kạn báo cáo.", "Bắc Kạn"),
    ],
)
def test_province_in_any_spelling(text, expected):
    assert province(text) == expected


def test_a_birthplace_is_not_the_story():
    text = ("Hình ảnh tư liệu về một nhà cách mạng\n"
            "Ông sinh ngày 9/2/1907 tại làng Hành Thiện, tỉnh Nam Định (nay thuộc xã Xuân Hồng, tỉnh Nam Định).")
    assert province(text) is None


# --- secretary ----------------------------------------------------------------------------

def secretary(text: str, **kwargs) -> object:
    return extract(text, **kwargs).secretary.value


DIEN_BIEN = "Tỉnh ủy Điện Biên họp phiên thường kỳ\nĐBP - Sáng 8/4, Tỉnh ủy Điện Biên họp. "


def test_secretary_from_the_table_in_office_that_day():
    text = DIEN_BIEN + "Đồng chí Trần Quốc Cường, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy phát biểu."
    meta = extract(text, date_hint="2023-04-07")
    assert (meta.secretary.value, meta.secretary.evidence[1]) == \
        ("Trần Quốc Cường", "secretary of Điện Biên per https://baotainguyenmoitruong.vn/print/346881.html")


@pytest.mark.parametrize(
    "sentence",
    [
        "Đồng chí Mùa A Sơn, Phó Bí thư Thường trực Tỉnh ủy, chủ trì hội nghị.",
        "Ông Lò Văn Phương, Phó Bí thư Tỉnh ủy Điện Biên, phát biểu.",
        "Bí thư Huyện ủy Tủa Chùa Giàng A Páo báo cáo.",
        "Ông Lò Văn Hùng, Bí thư Thành ủy Điện Biên Phủ, báo cáo.",
        "Bí thư Thành ủy Điện Biên Phủ Lò Văn Hùng báo cáo.",
        "Tổng Bí thư Nguyễn Văn Tổng gửi thư chúc mừng.",
        "Ông Nguyễn Văn Cũ, nguyên Bí thư Tỉnh ủy Điện Biên, dự hội nghị.",
        "Bí thư Đảng ủy xã Mường Báng Lò Văn Xã phát biểu.",
    ],
)
def test_not_the_provincial_secretary(sentence):
    meta = extract(DIEN_BIEN + sentence)
    assert (meta.province.value, meta.secretary.value) == ("Điện Biên", None)


def test_city_committee_of_a_provincial_city_is_not_the_province():
    text = ("Thanh Hoá: kiện toàn nhân sự\nSáng 8/4, Tỉnh ủy Thanh Hóa họp. UBND tỉnh Thanh Hóa báo cáo. "
            "Ông Nguyễn Văn Phố, Bí thư Thành ủy TP Thanh Hóa, phát biểu.")
    meta = extract(text)
    assert (meta.province.value, meta.secretary.value) == ("Thanh Hóa", None)


def test_secretary_of_another_province_is_not_this_ones():
    text = DIEN_BIEN + "Dự có ông Giàng Páo Mỷ, Bí thư Tỉnh ủy Lai Châu."
    assert secretary(text, date_hint="2023-04-07") is None


def test_secretary_not_in_the_table_named_with_the_province():
    text = ("Quảng Nam: hội nghị Tỉnh ủy\nSáng 8/4, Tỉnh ủy Quảng Nam họp. "
            "Bí thư Tỉnh ủy Quảng Nam Nguyễn Văn Chín chủ trì hội nghị.")
    meta = extract(text)
    assert (meta.secretary.value, meta.secretary.evidence[1]) == ("Nguyễn Văn Chín", "not in the secretaries table")


def test_two_people_named_secretary_gives_none():
    text = ("Quảng Nam: hội nghị Tỉnh ủy\nSáng 8/4, Tỉnh ủy Quảng Nam họp. "
            "Bí thư Tỉnh ủy Quảng Nam Nguyễn Văn Chín chủ trì. Bí thư Tỉnh ủy Quảng Nam Trần Văn Mười phát biểu.")
    meta = extract(text)
    assert meta.secretary.value is None
    assert meta.secretary.evidence == ["several people named Bí thư: Nguyễn Văn Chín, Trần Văn Mười"]


def test_headline_style_secretary():
    text = ("Bí thư Đà Nẵng Trương Quang Nghĩa làm việc với Sở Y tế\n"
            "Chiều 8/8, Bí thư Thành ủy Đà Nẵng Trương Quang Nghĩa chủ trì buổi làm việc với Sở Y tế TP Đà Nẵng.")
    meta = extract(text)
    assert (meta.province.value, meta.secretary.value) == ("Đà Nẵng", "Trương Quang Nghĩa")


def test_someone_quoted_about_the_secretary_is_not_the_secretary():
    text = ("Yên Bái: dư luận về biệt thự\nSáng 12/6, Tỉnh ủy Yên Bái họp. UBND tỉnh Yên Bái báo cáo. "
            "Theo đại biểu Nguyễn Văn Bàn, Bí thư Tỉnh ủy Yên Bái phải chỉ đạo làm rõ.")
    assert secretary(text) is None


@pytest.mark.parametrize(
    "sentence",
    [
        # a past term, named in a disciplinary report
        "Ủy ban Kiểm tra kỷ luật ông Nguyễn Văn Chín - Bí thư Tỉnh ủy nhiệm kỳ 2010-2015.",
        # history
        "Tháng 10-1981, đoàn do Bí thư Tỉnh ủy Quảng Nam Nguyễn Văn Chín dẫn đầu đi khảo sát.",
        "Dưới thời ông Nguyễn Văn Chín làm Bí thư Tỉnh ủy, tỉnh giao nhiều đất.",
    ],
)
def test_a_past_secretary_is_not_the_secretary(sentence):
    text = "Quảng Nam: hội nghị Tỉnh ủy\nSáng 8/4, Tỉnh ủy Quảng Nam họp. UBND tỉnh Quảng Nam báo cáo. " + sentence
    assert secretary(text) is None


def test_an_election_names_the_term_just_begun():
    text = ("Quảng Nam có Bí thư Tỉnh ủy mới\nSáng 8/4, Tỉnh ủy Quảng Nam họp, bầu ông Nguyễn Văn Chín giữ chức "
            "Bí thư Tỉnh ủy Quảng Nam nhiệm kỳ 2010-2015.")
    assert secretary(text) == "Nguyễn Văn Chín"


def test_a_place_is_not_a_person():
    text = ("Bí thư Hà Nội trả lời cử tri\nSáng 8/4, Thành ủy Hà Nội họp. Về phần mềm cho Hà Nội, "
            "Bí thư Thành ủy Hà Nội cho biết sẽ rà soát. Bí thư Thành ủy Hà Nội Nguyễn Văn Chín kết luận.")
    assert secretary(text) == "Nguyễn Văn Chín"


def test_secretary_needs_a_province():
    assert secretary("Một bài viết chung chung\nÔng Nguyễn Văn Chín, Bí thư Tỉnh ủy, phát biểu.") is None


# --- smaller fields -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("Ban Chấp hành Đảng bộ tỉnh tổ chức hội nghị lần thứ Mười (mở rộng).", 10),
        ("Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ mười lăm.", 15),
        ("Hội nghị Tỉnh ủy lần thứ hai mươi mốt.", 21),
        ("Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 13.", 13),
        ("Hội nghị lần thứ XXI của Ban Chấp hành Đảng bộ tỉnh.", 21),
        ("Hội nghị lần thứ 8 Ban Chấp hành Trung ương Đảng khóa XII.", None),
    ],
)
def test_conference_number(sentence, expected):
    assert extract(f"Tiêu đề bài viết\n{sentence}").conference.value == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("Ban Chấp hành Đảng bộ tỉnh khoá XIV tổ chức hội nghị.", "XIV"),
        ("Ban Chấp hành Đảng bộ tỉnh khóa XVII, nhiệm kỳ 2020 - 2025.", "XVII"),
        ("Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 15 (khóa XII).", "XII"),
        ("Bầu cử đại biểu Quốc hội khóa XV.", None),
        ("Nghị quyết Trung ương 4 (khóa XII) về xây dựng Đảng.", None),
    ],
)
def test_term(sentence, expected):
    assert extract(f"Tiêu đề bài viết\n{sentence}").term.value == expected


@pytest.mark.parametrize(
    "closing, expected",
    [
        ("Tin, ảnh: Quang Long\nBình luận\nTin khác", "Quang Long"),
        ("Đức Trung/DIENBIENTV.VN\n\nXem lịch phát sóng\n.", "Đức Trung"),
        ("HỒ HƯƠNG - ĐÌNH QUANG/baolangson.vn\n\nhttps://baolangson.vn/bai-viet.html", "HỒ HƯƠNG - ĐÌNH QUANG"),
        ("Tuổi Trẻ", None),
        ("Ông Nguyễn Văn A.", None),
    ],
)
def test_author(closing, expected):
    assert extract(f"Tiêu đề bài viết\nNội dung bài viết.\n{closing}").author.value == expected


def test_province_names_are_found_as_the_whole_pattern_finds_them():
    """places._names (the pattern without its lookbehind, the character before checked by
    hand) gives exactly the matches of name_pattern().finditer, on real articles and on
    names glued to words."""
    import gzip
    import json

    from search.metadata.places import _names, name_pattern
    from search.text import nfc

    from .conftest import SEEDS, SHARED

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    texts += ["XHà Nội, Hà Nội_1 và _Hà Nội; 1Hà Giang,Hà Giang.TP Hồ Chí Minh", "Bình Định", "xx", ""]
    real = SHARED / "corpora" / "party_committee_subset.jsonl.gz"
    if real.exists():  # without ../shared, the seeds and the glued names alone
        with gzip.open(real, "rt", encoding="utf-8") as f:
            texts += [json.loads(line)["body"] for _, line in zip(range(200), f)]
    found = 0
    for text in map(nfc, texts):
        expected = [(m.span(), m["name"]) for m in name_pattern().finditer(text)]
        assert [(m.span(), m["name"]) for m in _names(text)] == expected, text[:100]
        found += len(expected)
    assert found > (100 if real.exists() else 5)
