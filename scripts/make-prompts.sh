#!/usr/bin/env bash
# Regenerates the bundled English prompts (8 kHz, mono, 16-bit PCM WAV) with espeak-ng and sox.
# Usage: scripts/make-prompts.sh   (needs: apt-get install -y espeak-ng sox)
set -euo pipefail
cd "$(dirname "$0")/.."
out=prompts/en
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() { # name text
  espeak-ng -v en-us -s 150 -w "$tmp/$1.raw.wav" "$2"
  sox "$tmp/$1.raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$out/$1.wav" norm -3
}

say greeting "Thank you for calling. For support, press 1. For billing, press 2."
say invalid "Sorry, that is not a valid choice."
say goodbye "Thank you for calling. Goodbye."
say please_hold "Please hold. Your call is important to us."
# Number 95500 of the bundled dialplan.
say services "Welcome to the service line. For customer service, press 1. For billing, press 2."
say closed "Our service hours are nine to six, Monday to Friday, and nine to noon on Saturday. Please call again then. Goodbye."
say holiday "Our service center is closed for the holiday. Please call again on the next working day. Goodbye."
say refused "We are unable to take your call."

# Music on hold: a gentle two-chord loop, 8 seconds, seamless when repeated.
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$out/moh.wav" \
  synth 2 sine 261.63 sine 329.63 sine 392.00 : synth 2 sine 220 sine 261.63 sine 329.63 \
  : synth 2 sine 174.61 sine 220 sine 261.63 : synth 2 sine 196 sine 246.94 sine 293.66 \
  remix - fade q 0.05 0 0.05 vol 0.25 2>/dev/null \
  || sox -n -r 8000 -c 1 -b 16 -e signed-integer "$out/moh.wav" synth 8 sine 330 vol 0.2
ls -l "$out"
