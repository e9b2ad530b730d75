#!/usr/bin/env bash
# Debian packages sohoa needs at run time (with --test, for its tests; with --bench, for
# the benchmark's references).
# Installs only what is missing; used by `make run`, `make test` and the container image
# (deploy/Dockerfile), so the image gets the same Tesseract, languages and fonts.
set -euo pipefail

packages=(tesseract-ocr tesseract-ocr-vie tesseract-ocr-osd fonts-liberation2 fonts-dejavu-core
          qpdf)
if [[ "${1:-}" == "--test" ]]; then
  # docker-compose (Debian's 1.29): the tests check docker-compose.yml with `config`.
  # chromium: the browser tests drive Debian's Chromium through Playwright.
  # softhsm2: a PKCS#11 token for the signature tests.
  # fonts-dkg-handwriting: a person's handwriting, for the handwritten numbers and days of
  # tests/data/handwriting.py
  packages+=(redis-server postgresql docker-compose chromium softhsm2 fonts-dkg-handwriting)
elif [[ "${1:-}" == "--bench" ]]; then
  # the references `make bench` compares with: OCRmyPDF (with Ghostscript) and the script
  # model of Vietnamese
  # wrk: the load generator of the API benchmark (C, light on the CPU the server needs)
  packages+=(ocrmypdf ghostscript tesseract-ocr-script-viet wrk)
fi

# python3-venv only where `python3 -m venv` cannot work: Debian's own Python ships ensurepip
# (which venv needs for pip) in that package; the python:3.11 image and other self-built
# Pythons have it built in. A missing python3 also lands here (python3-venv brings it).
"${PYTHON:-python3}" -c 'import ensurepip, venv' >/dev/null 2>&1 || packages+=(python3-venv)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing: ${missing[*]}"
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
