"""What does not change from one card to the next, laid out once by WeasyPrint and reused on every page.

A frame is an HTML template rendered with its variable parts left empty: the card with its band,
labels and border; the A4 page with its cut marks; the index page with its table. Each empty part
is an element with ``data-slot="name"``; after the layout, the position, size and text style of
each slot are read from WeasyPrint's boxes, so the templates and the stylesheet remain the one
description of how a card looks. The frame's PDF page becomes a form XObject that the sheet
draws under the text and QR codes :mod:`portal.printing.typeset` sets in the slots.

The same template rendered with its slots filled is the reference: ``render.reference_card_pdf``
lays a card out entirely with WeasyPrint (bench/print_sheet.py's naive baseline, and the tests
compare the two).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from portal import pdf
from portal.printing.typeset import Box, Style, face

#: CSS pixels (WeasyPrint's layout unit) to PDF points.
PX = 0.75


@dataclass(frozen=True)
class Slot:
    """Where a variable part goes in a frame (points, from the frame's top-left corner) and its text style."""

    x: float
    y: float
    width: float
    height: float
    style: Style

    def box(self, left: float, top: float) -> Box:
        """Return the slot as a box of a page where the frame's top-left corner is at (``left``, ``top``)."""
        return Box(left + self.x, top - self.y, self.width, self.height)


@dataclass(frozen=True)
class Frame:
    """A frame's one-page PDF, its size in points and its slots."""

    key: tuple
    pdf: bytes
    width: float
    height: float
    slots: dict[str, Slot]


def _style(box) -> Style:
    style = box.style
    size = style["font_size"] * PX
    bold = int(style["font_weight"]) >= 600
    line_height = style["line_height"]
    if line_height == "normal":
        font = face(bold)
        factor = (font.ascent - font.descent) / font.units_per_em
    elif isinstance(line_height, (int, float)):
        factor = float(line_height)
    else:  # a length: a Dimension in px once computed
        factor = line_height.value * PX / size
    red, green, blue = style["color"].to("srgb").coordinates[:3]
    align = style["text_align_all"]
    return Style(size=size, bold=bold, line_height=factor, color=(red, green, blue), align=str(align))


def slots_of(document) -> dict[str, Slot]:
    """Return the slots (elements with ``data-slot``) of the first page of a laid-out WeasyPrint document."""
    found: dict[str, Slot] = {}
    for box in document.pages[0]._page_box.descendants():
        element = getattr(box, "element", None)
        name = element.get("data-slot") if element is not None else None
        if name and name not in found and hasattr(box, "content_box_x"):
            found[name] = Slot(x=box.content_box_x() * PX, y=box.content_box_y() * PX, width=box.width * PX,
                               height=box.height * PX, style=_style(box))
    return found


@lru_cache(maxsize=64)
def frame(key: tuple, html: str, css: str) -> Frame:
    """Lay out ``html`` (one page) with ``css`` once per process; ``key`` names it in the sheet's resources."""
    document = pdf.render_html(html, (css,))
    if len(document.pages) != 1:
        raise ValueError(f"the frame {key!r} takes {len(document.pages)} pages, not one")
    page = document.pages[0]
    return Frame(key=key, pdf=pdf.write_pdf(document), width=page.width * PX, height=page.height * PX,
                 slots=slots_of(document))


# ---------------------------------------------------------------------------
# A frame's page as a form XObject of another PDF
# ---------------------------------------------------------------------------

def import_frame(target, frame_: Frame):
    """Add ``frame_``'s page to the pydyf document ``target`` as a form XObject; return it."""
    from pypdf import PdfReader

    from portal.printing.typeset import compressed_stream

    page = PdfReader(io.BytesIO(frame_.pdf)).pages[0]
    copied: dict[int, object] = {}
    resources = _copy(page["/Resources"], target, copied)
    xobject = compressed_stream(page.get_contents().get_data(), {
        "Type": "/XObject", "Subtype": "/Form", "BBox": _array([0, 0, frame_.width, frame_.height]),
        "Resources": resources,
    })
    target.add_object(xobject)
    return xobject


def _array(values):
    import pydyf

    return pydyf.Array(values)


def _copy(value, target, copied: dict[int, object]):
    """Return ``value`` (a pypdf object) as a pydyf object of ``target``, indirect objects copied once."""
    import pydyf
    from pypdf import generic

    if isinstance(value, generic.IndirectObject):
        number = value.idnum
        if number not in copied:
            resolved = value.get_object()
            converted = _copy(resolved, target, copied)
            if not isinstance(converted, pydyf.Object):
                return converted
            target.add_object(converted)
            copied[number] = converted
        return copied[number].reference
    if isinstance(value, generic.StreamObject):
        extra = {key[1:]: _copy(item, target, copied) for key, item in value.items()
                 if key not in ("/Length", "/Filter", "/DecodeParms")}
        filters = value.get("/Filter")
        if filters in (None, "/FlateDecode") or list(filters) == ["/FlateDecode"]:
            return pydyf.Stream([value.get_data()], extra, compress=True)
        for key in ("/Filter", "/DecodeParms"):  # an image's own coding (DCT, ...): copied as it is
            if key in value:
                extra[key[1:]] = _copy(value[key], target, copied)
        return pydyf.Stream([value._data], extra)
    if isinstance(value, generic.DictionaryObject):
        return pydyf.Dictionary({key[1:]: _copy(item, target, copied) for key, item in value.items()
                                 if key != "/Parent"})
    if isinstance(value, generic.ArrayObject):
        return pydyf.Array([_copy(item, target, copied) for item in value])
    if isinstance(value, generic.BooleanObject):
        return "true" if value else "false"
    if isinstance(value, generic.NullObject):
        return "null"
    if isinstance(value, generic.NameObject):
        return pydyf.name(value[1:])
    if isinstance(value, generic.FloatObject):
        return float(value)
    if isinstance(value, generic.NumberObject):
        return int(value)
    if isinstance(value, (generic.TextStringObject, generic.ByteStringObject)):
        data = value.original_bytes if isinstance(value, generic.TextStringObject) else bytes(value)
        return b"<" + data.hex().encode() + b">"
    raise TypeError(f"cannot copy a {type(value).__name__} from a frame")
