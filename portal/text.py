"""One normalisation of what people type: spaces and Unicode form, diacritic folding, phone numbers.

The enterprise form, the worker form, the file import and the API all go through these, so the
same input is stored the same way and refused with the same words.
"""
from __future__ import annotations

import unicodedata

import phonenumbers
from flask_babel import lazy_gettext as _l

from portal.messages import Refusal

#: What a phone number that is not Vietnamese (or not a mobile or landline) is refused with.
PHONE_REFUSED = _l("Enter a Vietnamese mobile or landline number, e.g. 0909 123 456 or 028 3775 0000.")

_PHONE_TYPES = frozenset({
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
})


def clean_text(value: object) -> str:
    """Return ``value`` as NFC text, trimmed, with runs of whitespace made one space.

    ``None`` is the empty string; a whole float (a spreadsheet's 12.0) loses its ``.0``.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def fold(text: str) -> str:
    """Lowercase and strip Vietnamese diacritics, for matching names typed in many ways."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def normalise_phone(value: object, *, field: str = "phone") -> str:
    """Return a Vietnamese mobile or landline number in national form (0xxxxxxxxx); raise Refusal."""
    try:
        number = phonenumbers.parse(clean_text(value), "VN")
    except phonenumbers.NumberParseException:
        raise Refusal(PHONE_REFUSED, field=field) from None
    if (number.country_code != 84 or not phonenumbers.is_valid_number_for_region(number, "VN")
            or phonenumbers.number_type(number) not in _PHONE_TYPES):
        raise Refusal(PHONE_REFUSED, field=field)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(char for char in national if char.isdigit())
