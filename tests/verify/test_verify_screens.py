"""Every checkpoint outcome, on the page and in the JSON answer, in Vietnamese and English.

Only a valid card is green; a genuine card outside its hours is amber with the card's windows and the
next one; everything else is red with a plain instruction. The colour never stands alone: each
screen has its big word, an icon of its signal's shape and the instruction.
"""
from __future__ import annotations

import html
import re

import pytest

from portal.extensions import db
from portal.workers.models import Worker
from tests.verify.outcome_cards import NEWER_ROUTE, PRINTED_ROUTE, token_per_outcome

#: outcome: (signal, icon, {language: (big word, start of the instruction)})
SCREENS = {
    "valid": ("green", "✓", {"vi": ("HỢP LỆ", "Đối chiếu họ tên"), "en": ("VALID", "Compare the name")}),
    "outside_window": ("amber", "!", {"vi": ("NGOÀI KHUNG GIỜ", "Không cho qua bằng thẻ này vào giờ này"),
                                      "en": ("OUTSIDE TRAVEL HOURS", "Do not let them pass on this card now")}),
    "not_yet_valid": ("red", "✕", {"vi": ("CHƯA CÓ HIỆU LỰC", "Không chấp nhận thẻ trước ngày"),
                                   "en": ("NOT YET VALID", "Do not accept this card before its first day")}),
    "expired": ("red", "✕", {"vi": ("HẾT HẠN", "Không chấp nhận thẻ này"), "en": ("EXPIRED", "Do not accept")}),
    "superseded": ("red", "✕", {"vi": ("ĐÃ THAY THẾ", "Không chấp nhận thẻ này"),
                                "en": ("SUPERSEDED", "Do not accept")}),
    "revoked": ("red", "✕", {"vi": ("ĐÃ THU HỒI", "Không chấp nhận thẻ này"), "en": ("REVOKED", "Do not accept")}),
    "invalid": ("red", "✕", {"vi": ("KHÔNG HỢP LỆ", "Không chấp nhận"), "en": ("NOT VALID", "Do not accept")}),
}
WHAT_TO_DO = {"vi": "Cần làm:", "en": "What to do:"}
PERMIT = {"vi": "giấy đi đường", "en": "travel permit"}


@pytest.fixture
def tokens(app, world) -> dict[str, str]:
    with app.app_context():
        tokens = token_per_outcome(db.session, db.session.get(Worker, world.worker_a).enterprise)
        db.session.commit()
    return tokens


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _verdict(page: str) -> dict:
    section = re.search(r'<section class="verdict[^"]*" data-outcome="(\w+)"\s+data-signal="(\w+)"(.*?)</section>',
                        page, re.S)
    body = section.group(3)
    return {
        "outcome": section.group(1), "signal": section.group(2),
        "icon": _text(re.search(r'class="verdict-icon[^"]*"[^>]*>(.*?)</span></span>', body, re.S).group(1)),
        "word": _text(re.search(r'<h1 class="verdict-word">(.*?)</h1>', body, re.S).group(1)),
        "instruction": _text(re.search(r'<p class="verdict-instruction">(.*?)</p>', body, re.S).group(1)),
        "text": _text(body),
    }


def test_the_table_covers_every_outcome_with_one_green_and_one_amber():
    from portal.verify.outcomes import OUTCOME_CODES

    assert set(SCREENS) == set(OUTCOME_CODES)
    assert [code for code, (signal, _icon, _words) in SCREENS.items() if signal == "green"] == ["valid"]
    assert [code for code, (signal, _icon, _words) in SCREENS.items() if signal == "amber"] == ["outside_window"]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_each_outcome_on_the_page_and_in_json(client, tokens, language):
    client.get(f"/lang/{language}")
    for outcome, (signal, icon, words) in SCREENS.items():
        word, instruction = words[language]
        page = client.get(f"/v/{tokens[outcome]}").get_data(as_text=True)
        shown = _verdict(page)
        assert (shown["outcome"], shown["signal"], shown["icon"], shown["word"]) == (outcome, signal, icon, word)
        assert shown["instruction"].startswith(f"{WHAT_TO_DO[language]} {instruction}"), (outcome, shown)
        if signal != "green":
            assert PERMIT[language] in shown["instruction"], outcome  # what the holder needs instead
        answer = client.get(f"/api/v1/verify/{tokens[outcome]}").get_json()
        assert (answer["outcome"], answer["signal"], answer["word"], answer["language"]) == (
            outcome, signal, word, language)
        assert f"{WHAT_TO_DO[language]} {answer['instruction']}" == shown["instruction"]
        assert answer["meaning"] in shown["text"]
        if outcome == "superseded":
            assert "Quận 9" not in page and NEWER_ROUTE not in str(answer)  # the card as printed, never the newer one
            assert answer["pass"]["as_printed"] is True
            assert PRINTED_ROUTE in page and PRINTED_ROUTE in str(answer)  # the route on the card in the hand


@pytest.mark.parametrize(("language", "hours", "next_hours"), [
    ("vi", "Khung giờ đi lại của thẻ:", "Khung giờ tiếp theo:"),
    ("en", "Travel hours on this card:", "Next travel hours:"),
])
def test_outside_hours_shows_the_cards_windows_and_the_next_one(client, tokens, language, hours, next_hours):
    client.get(f"/lang/{language}")
    answer = client.get(f"/api/v1/verify/{tokens['outside_window']}").get_json()
    window = answer["pass"]["windows"][0]
    shown = _verdict(client.get(f"/v/{tokens['outside_window']}").get_data(as_text=True))["text"]
    assert f"{hours} {window['start']}–{window['end']}" in shown
    following = answer["next_window"]
    assert (following["start"], following["end"]) == (window["start"], window["end"])
    day = "/".join(reversed(following["date"].split("-")))
    assert f"{next_hours} {following['start']}–{following['end']}" in shown and day in shown


@pytest.mark.parametrize(("language", "expired", "not_yet"), [
    ("vi", "Thẻ chỉ có giá trị đến hết ngày", "Có giá trị từ ngày"),
    ("en", "It was valid until the end of", "Valid from"),
])
def test_expired_and_not_yet_valid_say_their_own_dates(client, tokens, language, expired, not_yet):
    client.get(f"/lang/{language}")
    expired_screen = _verdict(client.get(f"/v/{tokens['expired']}").get_data(as_text=True))["text"]
    not_yet_screen = _verdict(client.get(f"/v/{tokens['not_yet_valid']}").get_data(as_text=True))["text"]
    assert re.search(rf"{expired} \d\d/\d\d/\d{{4}}", expired_screen)
    assert re.search(rf"{not_yet} \d\d/\d\d/\d{{4}}", not_yet_screen)
    assert "or not yet" not in expired_screen and "hoặc chưa" not in expired_screen
