#!/usr/bin/env bash
# Regenerates the shipped masks in assets/masks/ from their coordinates.
# Masks follow the OpenAI convention: alpha 0 = the area to fill.
set -euo pipefail
cd "$(dirname "$0")/../.."
mask() { cargo run -q --release -p msgflux-local --example make_mask -- "$@"; }

# The space-shuttle model behind the astronaut (assets/astronaut.png, 512x512).
mask 512 512 assets/masks/astronaut-shuttle.png \
  polygon:370,0,446,0,452,36,470,62,474,246,486,260,486,292,352,294,350,240,354,212,360,88,368,60
