"""Benchmarks (`make bench`): sohoa against plain Tesseract on the same pages, in one run."""
