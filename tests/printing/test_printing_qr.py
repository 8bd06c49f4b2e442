"""The portal's QR encoder gives exactly qrcode's symbol (byte mode, level M, mask 0) for every version."""
from __future__ import annotations

import random

import pytest
import qrcode
from qrcode import util

from portal.printing import qr


def reference(text: str) -> tuple[tuple[bool, ...], ...]:
    code = qrcode.QRCode(version=qr.version_for(text), error_correction=qr.ERROR_CORRECTION, border=qr.QUIET_ZONE,
                         mask_pattern=qr.MASK_PATTERN)
    code.add_data(util.QRData(text.encode("utf-8"), mode=util.MODE_8BIT_BYTE))
    code.make(fit=False)
    return tuple(tuple(row) for row in code.get_matrix())


@pytest.mark.parametrize("version", range(1, qr.MAX_VERSION + 1))
def test_every_version_matches_qrcode_module_for_module(version):
    rng = random.Random(version)
    low = qr.BYTE_CAPACITY_M[version - 2] + 1 if version > 1 else 1
    for size in {low, qr.BYTE_CAPACITY_M[version - 1], rng.randint(low, qr.BYTE_CAPACITY_M[version - 1])}:
        text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABC0123456789-_/:.") for _ in range(size))
        assert qr.version_for(text) == version
        assert qr.qr_matrix(text) == reference(text), (version, size)


def test_a_verify_url_with_vietnamese_bytes_matches_too():
    text = "https://thexanh.example.vn/v/Nguyễn-Văn-Ẩn"
    assert qr.qr_matrix(text) == reference(text)


def test_a_text_above_version_10_is_refused():
    with pytest.raises(qr.QRTooLarge):
        qr.qr_matrix("x" * (qr.BYTE_CAPACITY_M[-1] + 1))
