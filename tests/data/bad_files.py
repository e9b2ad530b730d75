"""Files that must fail cleanly (or, for `png_named.pdf`, succeed despite their name).

`write_bad_files` also writes `bad_files.json`: for each file what a digitizer should do with
it (`expect`: "failed" with an `error` code of `schemas.errors.ErrorCode`, or "digitized"
with the page truth) and why the file exists.
"""

from __future__ import annotations

import io
import json
import random
import struct
import zipfile
import zlib
from pathlib import Path

import pikepdf

from tests.data.specs import get_spec
from tests.data.writers import write_digital_pdf, write_png, write_scanned_pdf

BOMB_SIDE = 30_000

PURPOSES: dict[str, str] = {
    "corrupt.pdf": "a PDF header followed by random bytes: no objects, no xref",
    "truncated.pdf": "a valid two-page scanned PDF cut in half (an interrupted upload or copy)",
    "empty.pdf": "zero bytes",
    "encrypted.pdf": "a born-digital PDF that needs the user password 'secret' to open",
    "png_named.pdf": "a real PNG scan of a one-page công văn saved with a .pdf name",
    "notes.docx": "a Word document (a ZIP container): not a supported type",
    "random.bin": "random bytes with no known signature",
    "bomb.png": f"a valid 1-bit PNG declaring {BOMB_SIDE}x{BOMB_SIDE} pixels in a few kB",
}

EXPECTED_ERRORS: dict[str, str] = {
    "corrupt.pdf": "corrupt_pdf",
    "truncated.pdf": "corrupt_pdf",
    "empty.pdf": "empty_file",
    "encrypted.pdf": "encrypted_pdf",
    "notes.docx": "unsupported_type",
    "random.bin": "unsupported_type",
    "bomb.png": "image_too_large",
}


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bomb(side: int = BOMB_SIDE) -> bytes:
    """A well-formed white 1-bit PNG of side x side pixels; ~side²/8/1000 bytes compressed."""
    row = b"\x00" + b"\xff" * ((side + 7) // 8)  # filter type 0, then white pixels
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _docx() -> bytes:
    """A minimal but well-formed .docx, with fixed timestamps so the bytes never change."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"'
            "/></Types>"
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
            'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Ghi chú '
            "cuộc họp giao ban</w:t></w:r></w:p></w:body></w:document>"
        ),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 8, 9, 0, 0)), text)
    return buf.getvalue()


def write_bad_files(out_dir: Path) -> dict[str, Path]:
    """Write every bad file into `out_dir` (and `bad_files.json`); return name → path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    paths = {name: out_dir / name for name in PURPOSES}
    paths["corrupt.pdf"].write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + rng.randbytes(4096))
    paths["empty.pdf"].write_bytes(b"")
    paths["random.bin"].write_bytes(rng.randbytes(2048))
    paths["notes.docx"].write_bytes(_docx())
    paths["bomb.png"].write_bytes(png_bomb())

    spec = get_spec("kh-251-ubnd")
    whole = write_scanned_pdf(out_dir / "_whole.pdf", spec, dpi=150, max_pages=2, quality=60)
    data = whole.path.read_bytes()
    whole.path.unlink()
    paths["truncated.pdf"].write_bytes(data[: len(data) // 2])

    plain = write_digital_pdf(out_dir / "_plain.pdf", get_spec("tb-45-pnv"), max_pages=1)
    with pikepdf.open(plain.path) as pdf:
        pdf.save(
            paths["encrypted.pdf"], encryption=pikepdf.Encryption(user="secret", owner="owner")
        )
    plain.path.unlink()

    png = write_png(out_dir / "png_named.pdf", get_spec("cv-12-ubnd-vx"), defects=("grey:200",))

    manifest: dict[str, dict] = {}
    for name in PURPOSES:
        entry: dict = {"purpose": PURPOSES[name]}
        if name in EXPECTED_ERRORS:
            entry.update(expect="failed", error=EXPECTED_ERRORS[name])
        else:
            entry.update(
                expect="digitized",
                media_type=png.media_type,
                pages=png.pages,
                methods=png.methods,
                dpi=png.dpi,
            )
        manifest[name] = entry
    (out_dir / "bad_files.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return paths
