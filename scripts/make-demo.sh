#!/bin/sh
# Makes assets/demo.mp4, the committed demo clip that tests and the file source use:
# 10 s of H.264 (libx264 main, yuv420p, 640x360, 25 fps, no B-frames, a keyframe every 25 frames)
# with a burnt-in timecode and frame counter, plus Opus 48 kHz mono (440 Hz beeping once a second),
# as a normal (non-fragmented) MP4 with the moov in front (+faststart).
#
# Made once with Debian ffmpeg 5.1; rerun only to change the clip. Usage: scripts/make-demo.sh [out]
set -eu

FFMPEG=${FFMPEG:-/usr/bin/ffmpeg}
OUT=${1:-"$(dirname "$0")/../assets/demo.mp4"}
DURATION_S=10
FPS=25
GOP_FRAMES=25
SIZE=640x360
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf

# The timecode and frame counter make a stalled, skipped or reordered frame visible at a glance.
# Without drawtext (ffmpeg built without libfreetype) testsrc2 still moves, just without the text.
VF="format=yuv420p"
if "$FFMPEG" -hide_banner -filters 2>/dev/null | grep -q ' drawtext ' && [ -f "$FONT" ]; then
  VF="drawtext=fontfile=$FONT:timecode='00\:00\:00\:00':rate=$FPS:fontsize=40:fontcolor=white:box=1:boxcolor=black@0.6:x=20:y=40,"
  VF="${VF}drawtext=fontfile=$FONT:text='frame %{n}':fontsize=32:fontcolor=yellow:box=1:boxcolor=black@0.6:x=20:y=90,"
  VF="${VF}format=yuv420p"
fi

"$FFMPEG" -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=$SIZE:rate=$FPS:duration=$DURATION_S" \
  -f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=$DURATION_S" \
  -vf "$VF" \
  -c:v libx264 -profile:v main -preset medium -crf 28 -bf 0 -g "$GOP_FRAMES" -keyint_min "$GOP_FRAMES" \
  -sc_threshold 0 -threads 1 \
  -c:a libopus -b:a 48k -ac 1 -ar 48000 \
  -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
  -movflags +faststart \
  "$OUT"

echo "wrote $OUT ($(wc -c < "$OUT") bytes)"
