#!/usr/bin/env python3
"""Probe, not kept in the code: would the low frequencies of a diffusion fill
under PatchMatch's detail meet issue 20's goal more often? (A structure +
texture split, after M. Bertalmio et al., "Simultaneous structure and texture
image inpainting", 2003.)

For each case of bench/local/run.py it takes our PatchMatch fill P (as the
last run.py left it in bench/work/local) and an anchor's fill S (the cached
anchors), and scores P + blur_sigma(S - P), the blur a Gaussian normalized
over the hole's pixels only, so a thin stroke takes S's low frequencies in
full. Prints each case (PSNR / gradient energy / goal) and the goal counts
per set.

    python3 bench/local/run.py                      # first: our fills and the anchors
    python3 bench/local/blend_probe.py "biharmonic,cv2 ns,fsr fast" 3,6,12,24

Results are in docs/benchmarks/local.md ("Tried and not kept").
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE.parent / ".venv-local"
# run.py's import would re-execute run.py itself inside its venv: enter it first (run.py creates it).
if Path(sys.prefix).resolve() != VENV.resolve():
    python = VENV / "bin" / "python"
    if not python.exists():
        sys.exit("run bench/local/run.py first: it creates bench/.venv-local and the fills this reads")
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])

sys.path.insert(0, str(HERE))
import run as R  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402


def blur_in(d, hole, sigma):
    """Gaussian blur of `d` over the hole's pixels only (normalized convolution)."""
    k = int(3 * sigma) * 2 + 1
    m = hole.astype(np.float64)
    weight = np.maximum(cv2.GaussianBlur(m, (k, k), sigma), 1e-6)
    if d.ndim == 3:
        return cv2.GaussianBlur(d * m[..., None], (k, k), sigma) / weight[..., None]
    return cv2.GaussianBlur(d * m, (k, k), sigma) / weight


def scores(image, fill, hole):
    return dict(psnr=R.psnr_in(image, fill, hole), ssim=R.ssim_in(image, fill, hole),
                ge=R.gradient_energy_ratio(image, fill, hole))


def main():
    smooth = sys.argv[1].split(",") if len(sys.argv) > 1 else ["biharmonic", "cv2 ns"]
    sigmas = [float(s) for s in sys.argv[2].split(",")] if len(sys.argv) > 2 else [3, 6, 12]
    variants = [("patchmatch", None, 0.0)] + [(f"{s} sigma {g:g}", s, g) for s in smooth for g in sigmas]
    counts = {name: {"tune": 0, "heldout": 0} for name, _, _ in variants}
    for set_name, load in [("tune", R.load_tune_cases), ("heldout", R.load_heldout_cases)]:
        for name, image in load():
            h, w = image.shape[:2]
            for hole_name, make in R.HOLES.items():
                hole = make(h, w, np.random.default_rng(sum(map(ord, name + hole_name))))
                anchors, _ = R.anchor_results(name, hole_name, image, hole, False)
                ours = cv2.imread(str(R.WORK / f"{name}-{hole_name}-ours-patchmatch.png"), cv2.IMREAD_UNCHANGED)
                case = {m: scores(image, anchors[m], hole) for m in R.ANCHORS}
                line = [set_name, name, hole_name]
                for label, source, sigma in variants:
                    fill = ours
                    if source is not None:
                        blended = ours + blur_in(anchors[source].astype(np.float64) - ours, hole, sigma)
                        blended = np.clip(np.round(blended), 0, 255).astype(np.uint8)
                        fill = np.where(hole[..., None] if image.ndim == 3 else hole, blended, image)
                    case["ours patchmatch"] = scores(image, fill, hole)
                    goal = R.goal(case)
                    counts[label][set_name] += goal != "missed"
                    line.append(f"{case['ours patchmatch']['psnr']:.2f}/{case['ours patchmatch']['ge']:.2f}/{goal}")
                print(" | ".join(line), flush=True)
    for label, count in counts.items():
        print(f"{label}: goal met in {count['tune']} tune, {count['heldout']} held-out cases")


if __name__ == "__main__":
    main()
