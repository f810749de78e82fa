#!/bin/sh
# Remake the certificate fonts in src/s3events/fonts/ from the DejaVu Serif files (Debian's
# fonts-dejavu-core): Latin, Greek and Cyrillic with their accents and punctuation only, so
# the package stays small. DejaVu's licence (LICENSE-DejaVu.txt beside them) allows this.
set -eu
SRC=${1:-/usr/share/fonts/truetype/dejavu}
OUT=$(dirname "$0")/../src/s3events/fonts
RANGES="U+0000-024F,U+0259,U+02B0-02FF,U+0300-036F,U+0370-03FF,U+0400-052F,U+1E00-1EFF,\
U+1F00-1FFF,U+2000-206F,U+20A0-20CF,U+2100-214F,U+2190-21FF,U+2212,U+25CF,U+2713,U+FB00-FB06"
for face in DejaVuSerif DejaVuSerif-Bold; do
  pyftsubset "$SRC/$face.ttf" --unicodes="$RANGES" --layout-features='*' \
    --output-file="$OUT/$face.ttf"
done
