#!/usr/bin/env bash
# Debian packages sohoa needs at run time (and, with --test, for its tests).
# Installs only what is missing; used by `make run`, `make test` and the container image.
set -euo pipefail

packages=(tesseract-ocr tesseract-ocr-vie tesseract-ocr-osd fonts-liberation2 fonts-dejavu-core
          python3-venv qpdf)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(redis-server postgresql)
fi

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
