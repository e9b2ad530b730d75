"""Sample scans of Vietnamese administrative documents with exact ground truth.

The public surface of the generator, in one place:

    from tests.data.samples import load_specs, render_pages, write_sample_batch
    specs = load_specs()
    pages = render_pages(specs[0], dpi=300, max_pages=2)   # PIL images + truth lines
    samples = write_sample_batch(tmp_path, count=12, seed=0)

The work is done in small modules: `specs` (what a document says), `typeset` (fonts, line
breaks), `layout` (where it goes on an A4 page per Decree 30/2020/NĐ-CP), `render`
(drawing), `defects` (scanner defects), `writers` (files), `bad_files`, `batch`; `metrics`
holds `cer` and `wer`.
"""

from tests.data.bad_files import write_bad_files
from tests.data.batch import read_truth, write_sample_batch
from tests.data.defects import (
    add_noise,
    blur,
    downsample,
    jpeg_artifacts,
    photocopy,
    red_stamp,
    rotate,
    skew,
)
from tests.data.layer_pdf import (
    MixedSample,
    write_labelled_scan,
    write_ocr_layer_scan,
    write_stamped_scan,
    write_text_layer_mix,
    write_unmapped_pdf,
)
from tests.data.layout import PageLayout, layout_document
from tests.data.legacy_pdf import write_legacy_pdf
from tests.data.metrics import cer, wer
from tests.data.render import RenderedPage, render_pages
from tests.data.specs import DocumentSpec, get_spec, load_specs
from tests.data.writers import (
    Sample,
    scan_page,
    write_digital_pdf,
    write_jpeg,
    write_mixed_pdf,
    write_png,
    write_scanned_pdf,
    write_tiff,
)

__all__ = [
    "DocumentSpec",
    "MixedSample",
    "PageLayout",
    "RenderedPage",
    "Sample",
    "add_noise",
    "blur",
    "cer",
    "downsample",
    "get_spec",
    "jpeg_artifacts",
    "layout_document",
    "load_specs",
    "photocopy",
    "read_truth",
    "red_stamp",
    "render_pages",
    "rotate",
    "scan_page",
    "skew",
    "wer",
    "write_bad_files",
    "write_digital_pdf",
    "write_jpeg",
    "write_labelled_scan",
    "write_legacy_pdf",
    "write_mixed_pdf",
    "write_ocr_layer_scan",
    "write_png",
    "write_sample_batch",
    "write_scanned_pdf",
    "write_stamped_scan",
    "write_text_layer_mix",
    "write_tiff",
    "write_unmapped_pdf",
]
