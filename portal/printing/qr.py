"""QR codes behind one module: the module matrix of a URL, and a small PNG of it.

Byte mode, error correction M, mask 0, the smallest version that holds the text (read from the
capacity table), up to :data:`MAX_VERSION`. Scanners do not care which mask was used, and a
fixed one saves trying all eight.

The function patterns (finders, timing, alignment, format and version information) and the
order in which data modules are placed come from ``qrcode`` once per version; the data
codewords and their Reed-Solomon error correction are computed here with lookup tables, about
eight times faster than ``qrcode``'s polynomial arithmetic (a print sheet makes a thousand codes).
``tests/printing/test_printing_qr.py`` checks that every version gives exactly ``qrcode``'s matrix.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Callable
from functools import cache, lru_cache
from operator import itemgetter

from qrcode.constants import ERROR_CORRECT_M

#: The largest QR version a pass may use (57×57 modules): it still scans from a phone screen.
MAX_VERSION = 10
ERROR_CORRECTION = ERROR_CORRECT_M
QUIET_ZONE = 4
MASK_PATTERN = 0
#: Bytes a byte-mode symbol holds at error correction M, versions 1-10 (ISO/IEC 18004, table 7).
BYTE_CAPACITY_M = (14, 26, 42, 62, 84, 106, 122, 152, 180, 213)
PAD_BYTES = (0xEC, 0x11)


class QRTooLarge(ValueError):
    """Raised when a text needs a QR code larger than :data:`MAX_VERSION`."""


def version_for(text: str) -> int:
    """Return the smallest version whose byte-mode capacity at level M holds ``text``."""
    size = len(text.encode("utf-8"))
    for version, capacity in enumerate(BYTE_CAPACITY_M, start=1):
        if size <= capacity:
            return version
    raise QRTooLarge(f"{size} bytes need a QR code above version {MAX_VERSION} (at most {BYTE_CAPACITY_M[-1]})")


# -- Galois field GF(256) and Reed-Solomon ---------------------------------------------------------

def _field_tables() -> tuple[list[int], list[int]]:
    exp, log = [0] * 512, [0] * 256
    value = 1
    for power in range(255):
        exp[power] = value
        log[value] = power
        value <<= 1
        if value & 0x100:
            value ^= 0x11D
    for power in range(255, 512):
        exp[power] = exp[power - 255]
    return exp, log


EXP, LOG = _field_tables()


@cache
def _generator_rows(degree: int) -> tuple[int, ...]:
    """Return, for each byte value, the generator polynomial of ``degree`` times it, as a ``degree``-byte int."""
    poly = [1]
    for power in range(degree):
        # poly × (x - α^power)
        poly = [a ^ (EXP[LOG[b] + power] if b else 0) for a, b in zip([*poly, 0], [0, *poly], strict=True)]
    coefficients = poly[1:]  # the leading 1 is implied
    rows = [0]
    for factor in range(1, 256):
        row = bytes(EXP[LOG[factor] + LOG[c]] if c else 0 for c in coefficients)
        rows.append(int.from_bytes(row, "big"))
    return tuple(rows)


def _error_correction(data: bytes, degree: int) -> bytes:
    """Return the ``degree`` Reed-Solomon codewords of ``data`` (the remainder kept as one integer)."""
    rows = _generator_rows(degree)
    shift, keep = 8 * (degree - 1), (1 << 8 * degree) - 1
    remainder = 0
    for byte in data:
        remainder = ((remainder << 8) & keep) ^ rows[(remainder >> shift) ^ byte]
    return remainder.to_bytes(degree, "big")


# -- Layout of one version --------------------------------------------------------------------------

@cache
def _blocks(version: int) -> tuple[tuple[int, int], ...]:
    """Return (data codewords, error correction codewords) of each block of ``version`` at level M."""
    from qrcode.base import rs_blocks

    return tuple((block.data_count, block.total_count - block.data_count)
                 for block in rs_blocks(version, ERROR_CORRECTION))


@cache
def _layout(version: int) -> tuple[Callable[[bytes], tuple[int, ...]], int, int]:
    """Return how to place ``version``'s data: a gather of the modules, the number of data modules, and mask 0.

    The gather takes the masked data bits (one byte each, 0 or 1, in placement order) followed by
    ``b"\\x00\\x01"`` and returns every module of the symbol row by row: function patterns (from
    qrcode) pick the light or dark constant at the end, data modules their bit.
    """
    import qrcode

    positions: list[int] = []

    class Blank(qrcode.QRCode):
        def map_data(self, data, mask_pattern):
            # qrcode's own placement order (two columns at a time, upwards then downwards), recorded.
            side, row, step = self.modules_count, self.modules_count - 1, -1
            for col in range(side - 1, 0, -2):
                if col <= 6:
                    col -= 1
                while 0 <= row < side:
                    for c in (col, col - 1):
                        if self.modules[row][c] is None:
                            positions.append(row * side + c)
                            self.modules[row][c] = False
                    row += step
                row -= step
                step = -step

    code = Blank(version=version, error_correction=ERROR_CORRECTION, border=0, mask_pattern=MASK_PATTERN)
    code.data_cache = []
    code.makeImpl(False, MASK_PATTERN)
    side = code.modules_count
    count = len(positions)
    index = [count + (1 if dark else 0) for row in code.modules for dark in row]
    for order, position in enumerate(positions):
        index[position] = order
    mask = int("".join("1" if (p // side + p % side) % 2 == 0 else "0" for p in positions), 2)  # (row + col) even
    return itemgetter(*index), count, mask


_BITS = bytes.maketrans(b"01", b"\x00\x01")


def _codewords(payload: bytes, version: int) -> list[int]:
    """Return the interleaved data and error correction codewords of ``payload`` in byte mode."""
    blocks = _blocks(version)
    capacity = sum(data for data, _ec in blocks)
    count_bits = 8 if version < 10 else 16
    bits = (0b0100 << count_bits | len(payload)) << 8 * len(payload) | int.from_bytes(payload, "big")
    length = 4 + count_bits + 8 * len(payload)
    terminator = min(4, 8 * capacity - length)
    bits <<= terminator
    length += terminator
    bits <<= -length % 8
    length += -length % 8
    data = list(bits.to_bytes(length // 8, "big"))
    data += [PAD_BYTES[index % 2] for index in range(capacity - len(data))]
    data = bytes(data)
    split, corrections, offset = [], [], 0
    for size, degree in blocks:
        split.append(data[offset:offset + size])
        corrections.append(_error_correction(split[-1], degree))
        offset += size
    out = [block[i] for i in range(max(size for size, _ in blocks)) for block in split if i < len(block)]
    out += [block[i] for i in range(max(degree for _, degree in blocks)) for block in corrections]
    return out


@lru_cache(maxsize=4096)
def qr_modules(text: str) -> tuple[int, bytes]:
    """Return the side of ``text``'s QR code (no quiet zone) and its modules row by row, 1 = dark."""
    version = version_for(text)
    gather, count, mask = _layout(version)
    codewords = bytes(_codewords(text.encode("utf-8"), version))
    # Remainder bits past the codewords are 0 before masking.
    bits = (int.from_bytes(codewords, "big") << (count - 8 * len(codewords))) ^ mask
    placed = format(bits, f"0{count}b").encode("ascii").translate(_BITS) + b"\x00\x01"
    return 17 + 4 * version, bytes(gather(placed))


def qr_matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    """Return the modules of ``text``'s QR code (quiet zone included), dark = True."""
    side, modules = qr_modules(text)
    blank = (False,) * (side + 2 * QUIET_ZONE)
    quiet = (False,) * QUIET_ZONE
    rows = [blank] * QUIET_ZONE
    rows += [quiet + tuple(map(bool, modules[start:start + side])) + quiet for start in range(0, side * side, side)]
    return tuple(rows + [blank] * QUIET_ZONE)


def qr_version(text: str) -> int:
    """Return the version of ``text``'s QR code (its side is 17 + 4 × version modules)."""
    return (len(qr_matrix(text)) - 2 * QUIET_ZONE - 17) // 4


#: Pixels per module in the PNG: with one, rasterisers at screen resolutions drew uneven modules.
PNG_SCALE = 4


def qr_png(text: str, scale: int = PNG_SCALE) -> bytes:
    """Return a black-and-white greyscale PNG of ``text``'s QR code, ``scale`` pixels per module."""
    from PIL import Image

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
