#!/usr/bin/env bash
# Publishes samples/Embedded as a NativeAOT binary and measures it: size, start-up, per-image latency.
# Installs the native toolchain NativeAOT needs on Debian (clang, zlib1g-dev) when it is missing.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v clang >/dev/null || ! dpkg -s zlib1g-dev >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang zlib1g-dev
fi
out=bin/aot
rm -rf "$out"
dotnet publish -c Release -r linux-x64 -p:NativeAot=true -o "$out" 2>&1 | tee publish.log
if grep -E "warning (IL|AOT)[0-9]+" publish.log; then
  echo "trim/AOT warnings above" >&2
  exit 1
fi
echo "binary: $(stat -c %s "$out/Embedded") bytes"
image=$(mktemp --suffix=.png)
# Start-up: the whole process, loading the embedded weights and classifying one image, 20 runs.
python3 - "$image" <<'PY'
import struct, sys, zlib
# A 28x28 grayscale PNG of a light vertical band on black, written without any library.
w = h = 28
rows = b"".join(b"\x00" + bytes(255 if 9 <= x <= 18 else 0 for x in range(w)) for _ in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
"$out/Embedded" "$image"
start=$(date +%s%N)
for i in $(seq 20); do "$out/Embedded" "$image" > /dev/null; done
end=$(date +%s%N)
echo "start-up and one classification: $(( (end - start) / 20000000 )) ms per run (mean of 20)"
"$out/Embedded" --latency
rm -f "$image"
