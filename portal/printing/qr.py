"""QR codes behind one module: the module matrix (cached) and a small PNG as a ``data:`` URI.

Measured by the team: a PNG is half the WeasyPrint cost of an SVG, and a fixed mask pattern makes
generation three times faster (qrcode otherwise builds all eight masks to pick the best). Mask 0
is a valid choice for every symbol; scanners do not care which mask was used. The version is
read from the capacity table instead of qrcode's trial fitting, which saves another third.
"""
from __future__ import annotations

import base64
import io
from functools import lru_cache

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

#: The largest QR version a pass may use (57×57 modules): it still scans from a phone screen.
MAX_VERSION = 10
ERROR_CORRECTION = ERROR_CORRECT_M
QUIET_ZONE = 4
MASK_PATTERN = 0
#: Bytes a byte-mode symbol holds at error correction M, versions 1-10 (ISO/IEC 18004, table 7).
BYTE_CAPACITY_M = (14, 26, 42, 62, 84, 106, 122, 152, 180, 213)


class QRTooLarge(ValueError):
    """Raised when a text needs a QR code larger than :data:`MAX_VERSION`."""


def version_for(text: str) -> int:
    """Return the smallest version whose byte-mode capacity at level M holds ``text``."""
    size = len(text.encode("utf-8"))
    for version, capacity in enumerate(BYTE_CAPACITY_M, start=1):
        if size <= capacity:
            return version
    raise QRTooLarge(f"{size} bytes need a QR code above version {MAX_VERSION} (at most {BYTE_CAPACITY_M[-1]})")


@lru_cache(maxsize=4096)
def qr_matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    """Return the modules of ``text``'s QR code (quiet zone included), dark = True."""
    code = qrcode.QRCode(version=version_for(text), error_correction=ERROR_CORRECTION, border=QUIET_ZONE,
                         mask_pattern=MASK_PATTERN)
    code.add_data(text, optimize=0)  # one byte-mode segment: the size the capacity table assumes
    code.make(fit=False)
    return tuple(tuple(row) for row in code.get_matrix())


def qr_version(text: str) -> int:
    """Return the version of ``text``'s QR code (its side is 17 + 4 × version modules)."""
    return (len(qr_matrix(text)) - 2 * QUIET_ZONE - 17) // 4


#: Pixels per module in the PNG. The PDF scales the image without smoothing (``image-rendering:
#: pixelated``), yet with one pixel per module, rasterisers at screen resolutions drew uneven
#: modules and zbarimg missed 6 of 30 codes at 120 dpi; with four it read 30 of 30 at 100-300 dpi.
PNG_SCALE = 4


def qr_png(text: str, scale: int = PNG_SCALE) -> bytes:
    """Return a black-and-white greyscale PNG of ``text``'s QR code, ``scale`` pixels per module.

    Greyscale, not 1-bit: WeasyPrint would widen a 1-bit image to RGB, three times the bytes.
    """
    rows = qr_matrix(text)
    side = len(rows)
    image = Image.frombytes("L", (side, side), bytes(0 if dark else 255 for row in rows for dark in row))
    if scale > 1:
        image = image.resize((side * scale, side * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@lru_cache(maxsize=4096)
def qr_data_uri(text: str) -> str:
    """Return the PNG of ``text``'s QR code as a ``data:`` URI for an ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode("ascii")
