"""WeasyPrint behind one function: HTML in, PDF bytes out, with the project's font and nothing fetched.

WeasyPrint may read only the project's own static assets: a URL fetcher refuses every other
URL (network or file system), so what users typed can never make it fetch anything.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from portal import PROJECT_ROOT

STATIC_ROOT = (PROJECT_ROOT / "static").resolve()
#: The base URL templates rendered for PDF use for assets: ``{{ pdf_static }}/fonts/...``.
STATIC_BASE_URL = STATIC_ROOT.as_uri()

FONT_FACE_CSS = """
@font-face { font-family: "Noto Sans"; font-weight: 400; src: url("%(base)s/fonts/NotoSans-Regular.ttf"); }
@font-face { font-family: "Noto Sans"; font-weight: 700; src: url("%(base)s/fonts/NotoSans-Bold.ttf"); }
""" % {"base": STATIC_BASE_URL}


class ForbiddenResource(ValueError):
    """Raised for any URL outside the project's static folder."""


def static_only_fetcher():
    """Return a WeasyPrint URL fetcher that serves files inside ``static/`` and ``data:`` URLs only."""
    from weasyprint.urls import URLFetcher

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "file":
                path = Path(unquote(parts.path)).resolve()
                if STATIC_ROOT not in path.parents:
                    raise ForbiddenResource(f"refused to read {url!r}")
                url = path.as_uri()
            elif parts.scheme != "data":
                raise ForbiddenResource(f"refused to fetch {url!r}")
            return super().fetch(url, headers)

    return StaticOnlyFetcher(allowed_protocols={"file", "data"}, allow_redirects=False)


@cache
def font_config():
    """One FontConfiguration for the process (a new one per render leaks memory)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def html_to_pdf(html: str, stylesheets: tuple[str, ...] = ()) -> bytes:
    """Render ``html`` (already escaped by Jinja) to PDF bytes with the embedded Noto Sans."""
    from weasyprint import CSS, HTML

    fonts = font_config()
    fetcher = static_only_fetcher()
    css = [CSS(string=FONT_FACE_CSS, font_config=fonts, url_fetcher=fetcher)]
    css += [CSS(string=sheet, font_config=fonts, url_fetcher=fetcher) for sheet in stylesheets]
    document = HTML(string=html, base_url=STATIC_BASE_URL + "/", url_fetcher=fetcher)
    return document.write_pdf(stylesheets=css, font_config=fonts)
