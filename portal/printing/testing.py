"""Read printed passes back the way a checkpoint does: rasterise with pdftoppm, decode with zbarimg.

Needs poppler-utils and zbar-tools (Debian packages) on the machine running the tests.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def rasterise(pdf: bytes, dpi: int) -> list[Path]:
    """Return one PNG per page of ``pdf`` at ``dpi`` (in a temporary folder kept for the test's life)."""
    folder = Path(tempfile.mkdtemp(prefix="pass-raster-"))
    (folder / "in.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(folder / "in.pdf"), str(folder / "page")],
                   check=True, capture_output=True, timeout=120)
    return sorted(folder.glob("page-*.png"))


def decode_qr_codes(image: Path) -> list[str]:
    """Return the text of every QR code zbarimg finds in ``image`` (in zbarimg's order)."""
    import xml.etree.ElementTree as ElementTree

    result = subprocess.run(["zbarimg", "--quiet", "--xml", "-Sdisable", "-Sqrcode.enable", str(image)],
                            capture_output=True, text=True, timeout=120)
    if result.returncode not in (0, 4):  # 4: no code found
        raise RuntimeError(result.stderr)
    if not result.stdout.strip():
        return []
    return [element.text for element in ElementTree.fromstring(result.stdout).iter() if element.tag.endswith("data")]


def pdf_text(pdf: bytes) -> str:
    """Return the text pdftotext extracts from ``pdf``."""
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                            check=True, timeout=60)
    return result.stdout.decode("utf-8")
