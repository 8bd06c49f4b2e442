import sys
from pathlib import Path

from portal import PROJECT_ROOT


def test_vietnamese_is_the_default_language(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Đăng nhập" in html  # fails when the catalogs were not compiled: Flask-Babel then shows English
    assert "Mật khẩu" in html


def test_the_english_switch_is_remembered(client):
    response = client.get("/lang/en?next=/login")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Password" in html and "Mật khẩu" not in html
    client.get("/lang/vi")
    assert "Mật khẩu" in client.get("/login").get_data(as_text=True)


def test_the_switch_ignores_unknown_languages_and_foreign_next(client):
    response = client.get("/lang/fr?next=https://evil.example/")
    assert response.headers["Location"] == "/"
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_every_string_has_a_vietnamese_translation():
    sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
    try:
        import i18n
    finally:
        sys.path.pop(0)
    problems = i18n.untranslated()
    assert problems == [], "untranslated strings:\n" + "\n".join(problems)


def test_compiled_catalogs_exist_for_every_catalog():
    for po in Path(PROJECT_ROOT).glob("**/translations/vi/LC_MESSAGES/messages.po"):
        if ".venv" in po.parts:
            continue
        assert po.with_suffix(".mo").exists(), f"{po} was not compiled (run scripts/i18n.py compile)"


def test_no_two_catalogs_translate_the_same_text_differently():
    """All catalogs merge into one at run time, so the later one would silently win a disagreement."""
    from babel.messages.pofile import read_po

    seen: dict[str, dict[str, list[str]]] = {}
    for po in sorted(Path(PROJECT_ROOT).glob("**/translations/vi/LC_MESSAGES/messages.po")):
        if ".venv" in po.parts:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if not message.id or not message.string or message.context:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            value = message.string if isinstance(message.string, str) else " | ".join(message.string)
            seen.setdefault(key, {}).setdefault(value, []).append(str(po.relative_to(PROJECT_ROOT)))
    disagreements = {key: values for key, values in seen.items() if len(values) > 1}
    assert disagreements == {}


VIETNAMESE_LETTERS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxy"
    "áàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)


def test_every_vendored_font_has_every_vietnamese_letter():
    """A letter missing from the web or print font is drawn in another typeface, mid-word."""
    from fontTools.ttLib import TTFont

    letters = set(VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper())
    fonts = sorted((Path(PROJECT_ROOT) / "static" / "fonts").glob("NotoSans-*.*"))
    assert {font.suffix for font in fonts} == {".ttf", ".woff2"}
    for font in fonts:
        cmap = TTFont(font).getBestCmap()
        missing = sorted(letter for letter in letters if ord(letter) not in cmap)
        assert not missing, f"{font.name} lacks {''.join(missing)}"
