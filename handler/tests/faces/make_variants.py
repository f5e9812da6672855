#!/usr/bin/env python3
"""Regenerate the hint variants of the face evaluation set from its originals.

    python3 make_variants.py            # rewrite every file under variants/
    python3 make_variants.py --check    # also exit 1 if a [[image]] variant entry in
                                        # faces.toml disagrees with what is computed here
    python3 make_variants.py --toml     # print the variant entries as TOML (to paste)

Needs Python 3.11+ (tomllib) and Pillow; nothing else, no network. Every step is a
pure function of the original's pixels and of the constants below, so a run gives the
same files every time with the same Pillow (another Pillow or libjpeg may differ by rounding).

Which variants exist is read from faces.toml: each [[image]] entry with `variant` and
`of` names the kind and the original; its `file` is where the result goes. The boxes,
crown and chin of the variant are the original's, moved and scaled like the pixels.
"""

import sys
import tomllib
from pathlib import Path

from PIL import Image, ImageFilter

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "faces.toml"

JPEG_QUALITY = 85
MAX_SIDE = 800

DARK_FACTOR = 0.25  # dark: every 8-bit sRGB value times 0.25
BRIGHT_EV = 1.5  # bright: +1.5 EV in linear light (x 2.83), clipped: over-exposed
BLUR_SIGMA_AT_800 = 4.0  # blurred: Gaussian sigma 4 px for an 800 px long side, scaled
SMALL_FACE_H = 60  # small: whole photo downscaled so the (first) face box is 60 px high
OFFCENTRE_CANVAS = 1.6  # offcentre: photo in a corner of a canvas 1.6x its size


def srgb_to_linear(v):
    c = v / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def linear_to_srgb(c):
    c = min(max(c, 0.0), 1.0)
    s = c * 12.92 if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055
    return int(round(s * 255))


def dark(im):
    lut = [int(round(v * DARK_FACTOR)) for v in range(256)]
    return im.point(lut * 3), 1.0, (0, 0), {"factor": DARK_FACTOR}


def bright(im):
    k = 2.0 ** BRIGHT_EV
    lut = [linear_to_srgb(srgb_to_linear(v) * k) for v in range(256)]
    return im.point(lut * 3), 1.0, (0, 0), {"ev": BRIGHT_EV}


def blurred(im):
    sigma = round(BLUR_SIGMA_AT_800 * max(im.size) / 800.0, 2)
    return im.filter(ImageFilter.GaussianBlur(radius=sigma)), 1.0, (0, 0), {"sigma": sigma}


def small(im, faces):
    s = SMALL_FACE_H / faces[0]["box"][3]
    size = (max(1, round(im.width * s)), max(1, round(im.height * s)))
    return im.resize(size, Image.LANCZOS), s, (0, 0), {"scale": round(s, 4)}


def border_median(im):
    w, h = im.size
    px = im.load()
    ring = [px[x, 0] for x in range(w)] + [px[x, h - 1] for x in range(w)]
    ring += [px[0, y] for y in range(h)] + [px[w - 1, y] for y in range(h)]
    return tuple(sorted(p[i] for p in ring)[len(ring) // 2] for i in range(3))


def offcentre(im, faces):
    # The photo, scaled so the canvas fits in MAX_SIDE, goes in the top corner on the side
    # where its face already is; the rest of the canvas is the median colour of the
    # photo's outer ring of pixels (a plain wall, as behind most portraits).
    s = min(1.0, MAX_SIDE / (OFFCENTRE_CANVAS * max(im.size)))
    if s < 1.0:
        im = im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)
    cw, ch = round(im.width * OFFCENTRE_CANVAS), round(im.height * OFFCENTRE_CANVAS)
    canvas = Image.new("RGB", (cw, ch), border_median(im))
    x, _, w, _ = faces[0]["box"]
    left = (x + w / 2) * s < im.width / 2
    ox = 0 if left else cw - im.width
    canvas.paste(im, (ox, 0))
    return canvas, s, (ox, 0), {"corner": "top-left" if left else "top-right", "scale": round(s, 4)}


KINDS = {"dark": dark, "bright": bright, "blurred": blurred, "small": small, "offcentre": offcentre}


def move_box(b, s, off):
    x, y, w, h = b
    return [round(x * s) + off[0], round(y * s) + off[1], round(w * s), round(h * s)]


def move(faces, s, off):
    oy = off[1]
    out = []
    for f in faces:
        g = dict(f)
        g["box"] = move_box(f["box"], s, off)
        g["crown_y"] = round(f["crown_y"] * s) + oy
        g["chin_y"] = round(f["chin_y"] * s) + oy
        out.append(g)
    return out


def make(entry, originals):
    orig = originals[entry["of"]]
    im = Image.open(HERE / orig["file"]).convert("RGB")
    fn = KINDS[entry["variant"]]
    if fn in (small, offcentre):
        out, s, off, params = fn(im, orig["faces"])
    else:
        out, s, off, params = fn(im)
    ignore = [move_box(b, s, off) for b in orig.get("ignore", [])]
    return out, move(orig["faces"], s, off), ignore, params


def save(im, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fresh RGB image carries no EXIF, ICC or comment: only the JFIF header is written.
    Image.frombytes("RGB", im.size, im.tobytes()).save(
        path, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=False
    )


def face_toml(f):
    return "{ box = [%d, %d, %d, %d], crown_y = %d, chin_y = %d, pose = \"%s\" }" % (
        *f["box"], f["crown_y"], f["chin_y"], f.get("pose", "frontal"))


def main(argv):
    manifest = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    images = manifest["image"]
    originals = {e["file"]: e for e in images if "variant" not in e}
    problems = []
    for e in (e for e in images if "variant" in e):
        im, faces, ignore, params = make(e, originals)
        save(im, HERE / e["file"])
        if "--toml" in argv:
            print("[[image]]")
            print('file = "%s"' % e["file"])
            print('variant = "%s"' % e["variant"])
            print('of = "%s"' % e["of"])
            print("params = { %s }" % ", ".join(
                '%s = %s' % (k, ('"%s"' % v) if isinstance(v, str) else v) for k, v in params.items()))
            print("size = [%d, %d]" % im.size)
            print("faces = [\n%s\n]" % "\n".join("  %s," % face_toml(f) for f in faces))
            if ignore:
                print("ignore = [%s]" % ", ".join("[%d, %d, %d, %d]" % tuple(b) for b in ignore))
            print()
        if "--check" in argv:
            want = [(f["box"], f["crown_y"], f["chin_y"]) for f in faces]
            got = [(f["box"], f["crown_y"], f["chin_y"]) for f in e.get("faces", [])]
            if want != got or list(im.size) != e.get("size") or ignore != e.get("ignore", []):
                problems.append("%s: manifest %s %s, computed %s %s" % (
                    e["file"], e.get("size"), got, list(im.size), want))
    for p in problems:
        print("MISMATCH", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
