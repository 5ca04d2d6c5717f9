#!/bin/sh
# Regenerates the demo media with ffmpeg (Debian: apt-get install ffmpeg).
# The outputs are committed, so running the demo never needs ffmpeg.
# -bitexact and a fixed encoder setup keep re-runs byte-stable where ffmpeg allows.
set -eu
cd "$(dirname "$0")"

# 4 s, 320x240 @ 24 fps test pattern with a 440 Hz tone: H.264 + AAC in MP4,
# moov atom first (faststart) so that players and hosts can read it streaming.
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=320x240:rate=24:duration=4" \
  -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=4" \
  -c:v libx264 -preset veryslow -crf 30 -pix_fmt yuv420p -profile:v main \
  -c:a aac -b:a 48k -ac 1 \
  -movflags +faststart -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
  -shortest sample.mp4

# 1280x720 JPEG thumbnail (YouTube's recommended 16:9 size), taken from the first second.
ffmpeg -hide_banner -loglevel error -y -ss 1 -i sample.mp4 -frames:v 1 \
  -vf "scale=1280:720:flags=lanczos" -q:v 6 thumbnail.jpg

ls -l sample.mp4 thumbnail.jpg
