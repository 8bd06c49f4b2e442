"""Messages kept as ids and parameters, rendered in the reader's language; the one refusal type."""
from __future__ import annotations

import json
from datetime import date

import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.messages import Message, Refusal, literal
from portal.text import PHONE_REFUSED, clean_text, fold, normalise_phone


def test_a_lazy_message_is_stored_as_its_id_and_rendered_in_each_language(app):
    stored = json.loads(json.dumps(Message.of(_l("Not eligible: %(reason)s", reason="x")).as_json()))
    assert stored == {"id": "Not eligible: %(reason)s", "params": {"reason": "x"}}
    with app.test_request_context(), force_locale("vi"):
        assert Message.from_json(stored).render() == "Chưa đủ điều kiện: x"
    with app.test_request_context(), force_locale("en"):
        assert Message.from_json(stored).render() == "Not eligible: x"


def test_nested_messages_dates_and_literals_survive_the_database(app):
    inner = _l("Not eligible")
    message = Message.of(_l("Not eligible: %(reason)s", reason=inner))
    stored = json.loads(json.dumps(message.as_json()))
    assert stored["params"]["reason"] == {"message": {"id": "Not eligible", "params": {}}}
    with app.test_request_context(), force_locale("vi"):
        assert Message.from_json(stored).render() == "Chưa đủ điều kiện: Chưa đủ điều kiện"
    dated = json.loads(json.dumps(Message("On %(day)s", {"day": date(2021, 9, 5)}).as_json()))
    typed = json.loads(json.dumps(literal("Not eligible").as_json()))
    with app.test_request_context(), force_locale("vi"):
        assert Message.from_json(dated).render() == "On 05/09/2021"
        assert Message.from_json(typed).render() == "Not eligible"  # a person's words are never translated
        assert Message.from_json("cũ") .render() == "cũ"  # a bare string from before messages were stored


def test_a_refusal_carries_its_message_and_field(app):
    refusal = Refusal(_l("Not eligible: %(reason)s", reason="x"), field="doses")
    with app.test_request_context(), force_locale("vi"):
        assert str(refusal) == "Chưa đủ điều kiện: x"
        assert refusal.as_json() == {"message": "Chưa đủ điều kiện: x", "field": "doses"}
    assert refusal.message.as_json() == {"id": "Not eligible: %(reason)s", "params": {"reason": "x"}}


def test_text_is_normalised_one_way():
    assert clean_text("  Nguye\u0302\u0303n \t Văn\nAn ") == "Nguyễn Văn An"
    assert clean_text(None) == "" and clean_text(909123456.0) == "909123456"
    assert fold("Đỗ Thị  Bích") == "do thi bich"


@pytest.mark.parametrize("typed", ["0909 123 456", "+84 909 123 456", "(028) 3775 0000", "84909123456"])
def test_vietnamese_phones_are_kept_in_national_form(typed):
    assert normalise_phone(typed) in {"0909123456", "02837750000"}


@pytest.mark.parametrize("typed", ["", "12345", "+1 415 555 0100", "0909 123", "phone"])
def test_other_phones_are_refused_with_one_message(typed):
    with pytest.raises(Refusal) as refused:
        normalise_phone(typed, field="contact_phone")
    assert refused.value.field == "contact_phone"
    assert refused.value.message == Message.of(PHONE_REFUSED)
