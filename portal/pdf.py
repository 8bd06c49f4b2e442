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

FONT_FACE_CSS = f"""
@font-face {{ font-family: "Noto Sans"; font-weight: 400; src: url("{STATIC_BASE_URL}/fonts/NotoSans-Regular.ttf"); }}
@font-face {{ font-family: "Noto Sans"; font-weight: 700; src: url("{STATIC_BASE_URL}/fonts/NotoSans-Bold.ttf"); }}
"""


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
    import atexit

    from weasyprint.text.fonts import FontConfiguration

    # Drop it while the interpreter is whole: its __del__ fails once modules are torn down.
    atexit.register(font_config.cache_clear)
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


# -- Reusing parsed stylesheets (for many renders of the same kind of page) ------------------------

@cache
def stylesheet(css: str):
    """Return ``css`` parsed once, bound to the shared fonts and the locked fetcher (reused by every render).

    Parsing the same stylesheet (and its ``@font-face`` rules) for each of a thousand passes costs
    as much as laying one out; the parsed object is immutable and safe to share.
    """
    from weasyprint import CSS

    return CSS(string=css, font_config=font_config(), url_fetcher=static_only_fetcher())


def render_html(html: str, stylesheets: tuple[str, ...] = ()):
    """Lay out ``html`` with the embedded Noto Sans and ``stylesheets``; return WeasyPrint's Document."""
    from weasyprint import HTML

    css = [stylesheet(FONT_FACE_CSS), *(stylesheet(sheet) for sheet in stylesheets)]
    document = HTML(string=html, base_url=STATIC_BASE_URL + "/", url_fetcher=static_only_fetcher())
    return document.render(stylesheets=css, font_config=font_config())


def write_pdf(document) -> bytes:
    """Return the PDF bytes of a Document from :func:`render_html`."""
    return document.write_pdf()
