"""The digitizing body's signature on a digitized PDF (Decree 30/2020 Appendix I; Circular
05/2025/TT-BNV Article 8).

A PAdES signature (pyHanko), added as an incremental update so the PDF/A-2b file before it is
kept byte for byte, visible in the top right of page 1: the body's name and the signing time
in ISO 8601 with +07:00, 10 pt Liberation Serif (metrically Times New Roman), black, no seal
image. The key is a PKCS#12 file or a PKCS#11 token (ocr.signing_keys loads either); a
time-stamping authority adds a timestamp when one is configured.

Two things pyHanko does not do for PDF/A, done here: its XMP gets pyHanko as producer while
the Info dictionary keeps ours (PDF/A wants the two to agree), and it writes the widths of a
font in the font's own units, which are not PDF's thousandths of an em for Liberation's 2048
units per em (glyphs would be spread apart and disagree with the font program); the font is
therefore rescaled to 1000 units per em before it is embedded.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pikepdf
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.misc import PdfError as HankoPdfError
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields
from pyhanko.sign.general import SigningError as HankoSigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, Signer
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError
from pyhanko.stamp import TextStampStyle

from ocr.pdfa_check import pdfa_problems
from schemas.deliverable_errors import DeliverableErrorCode

#: Việt Nam keeps UTC+7 all year
VIETNAM_TIME = timezone(timedelta(hours=7))
FONT_FILE = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
FONT_SIZE = 10
FIELD_NAME = "ChuKySoHoa"
_LEADING = 12
_MM = 72 / 25.4
#: the stamp sits in the top margin (20–25 mm), its right edge on the right margin (15 mm)
_TOP, _RIGHT, _PAD = 6 * _MM, 15 * _MM, 2


class SigningError(Exception):
    """The PDF could not be signed, or the key could not be used: a code and why."""

    def __init__(self, code: DeliverableErrorCode, message: str) -> None:
        super().__init__(code, message)
        self.code = DeliverableErrorCode(code)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"


@dataclass(frozen=True)
class AppliedSignature:
    """What was signed into the file: who, when (+07:00), and whether a TSA vouches for when."""

    body: str
    signed_at: datetime
    timestamped: bool
    field: str


class DigitizingBodySigner:
    """A loaded key that signs PDFs in the digitizing body's name.

    Made by `ocr.signing_keys.load_signer`; close it when done (a token keeps a session open).
    """

    def __init__(
        self,
        signer: Signer,
        body: str,
        timestamper: TimeStamper | None = None,
        on_close: contextlib.AbstractContextManager[Any] | None = None,
    ) -> None:
        self._signer, self.body, self._timestamper = signer, body, timestamper
        self._on_close = on_close

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close.__exit__(None, None, None)
            self._on_close = None

    def __enter__(self) -> DigitizingBodySigner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sign(self, source: Path, out: Path, *, at: datetime | None = None) -> AppliedSignature:
        """Write `out`: the PDF/A `source` with the body's visible signature on page 1.

        `source` must be PDF/A-2b; it is checked first, and nothing is written when it is not,
        or when it is damaged. `at` (default: now) is shown and signed as the signing time.
        """
        source, out = Path(source), Path(out)
        at = (at or datetime.now(VIETNAM_TIME)).astimezone(VIETNAM_TIME).replace(microsecond=0)
        rect, field = _placement(source)
        when = at.isoformat()
        style = _stamp_style()
        signer = _AtTime(
            PdfSignatureMetadata(
                field_name=field,
                subfilter=fields.SigSeedSubFilter.PADES,
                md_algorithm="sha256",
                name=self.body,
            ),
            signer=self._signer,
            timestamper=self._timestamper,
            stamp_style=style,
            new_field_spec=fields.SigFieldSpec(field, on_page=0, box=_box(rect, self.body, when)),
            at=at,
        )
        fd, tmp = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent)
        try:
            with open(source, "rb") as inf, os.fdopen(fd, "wb") as outf:
                writer = IncrementalPdfFileWriter(inf, strict=False)
                _producer_as_pyhanko_writes_it(writer)
                signer.sign_pdf(
                    writer,
                    appearance_text_params={"body": self.body, "when": when},
                    output=outf,
                )
            os.replace(tmp, out)
        except TimestampRequestError as exc:
            raise SigningError(DeliverableErrorCode.timestamp_failed, str(exc)) from exc
        except (HankoPdfError, pikepdf.PdfError) as exc:
            raise SigningError(
                DeliverableErrorCode.document_damaged, f"{source.name}: {exc}"
            ) from exc
        except HankoSigningError as exc:
            cause = exc.__cause__ or exc.__context__
            code = (
                DeliverableErrorCode.timestamp_failed
                if isinstance(cause, TimestampRequestError | OSError)
                else DeliverableErrorCode.signing_failed
            )
            raise SigningError(code, f"{source.name}: {exc}") from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return AppliedSignature(self.body, at, self._timestamper is not None, field)


class _AtTime(PdfSigner):
    """pyHanko's signer with one signing time for the stamp, /M and the CMS signing time."""

    def __init__(self, *args: Any, at: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._at = at

    # pyHanko's own signature of this method carries no annotations to repeat
    def init_signing_session(self, pdf_out, existing_fields_only=False):  # type: ignore[no-untyped-def]
        session = super().init_signing_session(pdf_out, existing_fields_only)
        session.system_time = self._at
        return session


def _placement(source: Path) -> tuple[tuple[float, float, float, float], str]:
    """Page 1's visible box (user space) and a signature field name not yet taken."""
    try:
        problems = pdfa_problems(source)
        with pikepdf.open(source) as pdf:
            if not len(pdf.pages):
                raise SigningError(DeliverableErrorCode.document_damaged, f"{source.name}: no page")
            page = pdf.pages[0]
            box = [float(v) for v in page.cropbox]
            form = pdf.Root.get("/AcroForm")
            fields_ = form.get("/Fields") if isinstance(form, pikepdf.Dictionary) else None
            taken = {
                str(f.get("/T", ""))
                for f in (fields_ if isinstance(fields_, pikepdf.Array) else [])
                if isinstance(f, pikepdf.Dictionary)
            }
    except pikepdf.PdfError as exc:
        raise SigningError(DeliverableErrorCode.document_damaged, f"{source.name}: {exc}") from exc
    if problems:
        raise SigningError(
            DeliverableErrorCode.document_not_pdfa, f"{source.name}: {'; '.join(problems)}"
        )
    field, n = FIELD_NAME, 1
    while field in taken:  # signed again (e.g. after a correction): one more field
        n += 1
        field = f"{FIELD_NAME}{n}"
    x0, y0, x1, y1 = (
        min(box[0], box[2]),
        min(box[1], box[3]),
        max(box[0], box[2]),
        max(box[1], box[3]),
    )
    return (x0, y0, x1, y1), field


def _box(
    page: tuple[float, float, float, float], body: str, when: str
) -> tuple[int, int, int, int]:
    """The stamp's rectangle: as wide as its longest line, its top right in the page's."""
    width = max(_text_width(body), _text_width(when)) + 2 * _PAD
    height = 2 * _LEADING + 2 * _PAD
    right, top = page[2] - _RIGHT, page[3] - _TOP
    left = max(page[0], right - width)
    return (int(left), int(top - height), int(right + 0.999), int(top + 0.999))


def _text_width(text: str) -> float:
    font = _font()
    cmap, metrics = font.getBestCmap(), font["hmtx"].metrics
    units = sum(metrics[cmap[ord(c)]][0] if ord(c) in cmap else 500 for c in text)
    return float(units * FONT_SIZE / font["head"].unitsPerEm)


@cache
def _font_bytes() -> bytes:
    """Liberation Serif at 1000 units per em, the unit of PDF glyph widths (see above)."""
    font = TTFont(FONT_FILE)
    if font["head"].unitsPerEm != 1000:
        scale_upem(font, 1000)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


@cache
def _font() -> TTFont:
    return TTFont(io.BytesIO(_font_bytes()))


@dataclass(frozen=True)
class _ScaledFont(GlyphAccumulatorFactory):
    """pyHanko's font engine, fed the rescaled font instead of a file on disk."""

    # pyHanko's own signature of this method carries no annotations to repeat
    def create_font_engine(self, writer, obj_stream=None) -> GlyphAccumulator:  # type: ignore[no-untyped-def]
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(
            writer=writer,
            font_handle=io.BytesIO(_font_bytes()),
            font_size=self.font_size,
            obj_stream=obj_stream,
        )


def _stamp_style() -> TextStampStyle:
    no_margin = layout.SimpleBoxLayoutRule(
        x_align=layout.AxisAlignment.ALIGN_MAX,
        y_align=layout.AxisAlignment.ALIGN_MID,
        margins=layout.Margins(left=0, right=0, top=0, bottom=0),
        inner_content_scaling=layout.InnerScaling.NO_SCALING,
    )
    return TextStampStyle(
        stamp_text="%(body)s\n%(when)s",
        text_box_style=TextBoxStyle(
            font=_ScaledFont(str(FONT_FILE), font_size=FONT_SIZE),
            font_size=FONT_SIZE,
            leading=_LEADING,
            text_color=(0, 0, 0),
            box_layout_rule=no_margin,
        ),
        inner_content_layout=no_margin,
        border_width=0,
        background=None,
    )


def _producer_as_pyhanko_writes_it(writer: IncrementalPdfFileWriter) -> None:
    """Make the Info /Producer what pyHanko writes into the XMP, so that the two agree."""
    info = writer.trailer.raw_get("/Info") if "/Info" in writer.trailer else None
    if info is None:
        return
    # pyHanko's generic objects carry no annotations
    target = info.get_object() if isinstance(info, generic.IndirectObject) else info  # type: ignore[no-untyped-call]
    target["/Producer"] = generic.TextStringObject(VENDOR)
    if isinstance(info, generic.IndirectObject):
        writer.mark_update(info)
