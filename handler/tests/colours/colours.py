#!/usr/bin/env python3
"""The Pillow side of `tests/colours.rs`: makes the test photos with embedded ICC profiles, the
littleCMS reference of each (Pillow's ImageCms), and measures the pipeline's output against it.

    colours.py make DIR      writes DIR/<case>.jpg|webp (the uploads) and DIR/<case>.ref.png (the
                             reference: the upload converted to sRGB by littleCMS, relative
                             colorimetric intent as the pipeline's, then resized to 413x531 with Lanczos); prints the case names
    colours.py compare DIR   for every DIR/<case>.out.jpg (the pipeline's photo), prints
                             `<case> <mean dE2000 vs reference> <mean dE2000 of the upload taken
                             as sRGB vs reference>`

The photo is a real one (`../shared/photos/phone-jolla-8mp.jpg`, cut to 35:45) with a row of
saturated patches at its foot, where the wide spaces differ most from sRGB; its pixel values are
taken as already in each profile's space, as a camera set to that space writes them (CMYK: the
photo separated to the press profile by littleCMS, as a print shop would).
"""
import io
import pathlib
import sys

import numpy as np
from PIL import Image, ImageCms

HERE = pathlib.Path(__file__).resolve().parent
PHOTO = HERE.parent.parent.parent.parent / "shared" / "photos" / "phone-jolla-8mp.jpg"
OUT = (413, 531)
SIZE = (826, 1062)  # twice the output: the pipeline decodes at 1/2 in the DCT domain
P3, ADOBE, CMYK = (HERE / n for n in ("DisplayP3.icm", "compatibleWithAdobeRGB1998.icc", "default_cmyk.icc"))
SRGB = ImageCms.createProfile("sRGB")
PATCHES = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255), (240, 180, 150)]


def photo():
    img = Image.open(PHOTO).convert("RGB")
    w, h = img.size
    cw = h * 35 // 45
    img = img.crop(((w - cw) // 2, 0, (w - cw) // 2 + cw, h)).resize(SIZE, Image.LANCZOS)
    side = SIZE[0] // len(PATCHES)
    for i, colour in enumerate(PATCHES):
        img.paste(colour, (i * side, SIZE[1] - side, (i + 1) * side, SIZE[1]))
    return img


def strip_adobe(jpeg):
    """The JPEG without its APP14 Adobe segment (a CMYK file as some writers leave it)."""
    at = 2
    while jpeg[at] == 0xFF and jpeg[at + 1] != 0xDA:
        length = int.from_bytes(jpeg[at + 2:at + 4], "big")
        if jpeg[at + 1] == 0xEE:
            return jpeg[:at] + jpeg[at + 2 + length:]
        at += 2 + length
    raise SystemExit("colours.py: no APP14 segment to strip")


def make(out):
    out.mkdir(parents=True, exist_ok=True)
    rgb = photo()
    cmyk = ImageCms.profileToProfile(rgb, SRGB, str(CMYK), outputMode="CMYK")
    cases = {}
    for name, img, profile, fmt in [
        ("display-p3", rgb, P3, "JPEG"),
        ("adobe-rgb", rgb, ADOBE, "JPEG"),
        ("display-p3-webp", rgb, P3, "WEBP"),
        ("cmyk-swop", cmyk, CMYK, "JPEG"),
    ]:
        buf = io.BytesIO()
        img.save(buf, fmt, quality=95, icc_profile=profile.read_bytes())
        cases[name] = buf.getvalue()
    cases["cmyk-swop-no-app14"] = strip_adobe(cases["cmyk-swop"])
    for name, data in cases.items():
        ext = "webp" if name.endswith("webp") else "jpg"
        (out / f"{name}.{ext}").write_bytes(data)
        img = Image.open(io.BytesIO(data))
        profile = ImageCms.ImageCmsProfile(io.BytesIO(img.info["icc_profile"]))
        ref = ImageCms.profileToProfile(img, profile, SRGB, renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
                                        outputMode="RGB")
        ref.resize(OUT, Image.LANCZOS).save(out / f"{name}.ref.png")
        # What a pipeline that ignores the profile shows: the values as sRGB (CMYK: naive inks).
        img.convert("RGB").resize(OUT, Image.LANCZOS).save(out / f"{name}.untagged.png")
        print(name)


def lab(rgb):
    """CIELAB (D65 white) of sRGB pixels."""
    c = rgb.astype(np.float64) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def delta_e2000(a, b):
    """CIEDE2000 between two arrays of Lab colours (Sharma, Wu and Dalal, 2005), kL = kC = kH = 1."""
    l1, a1, b1 = np.moveaxis(a, -1, 0)
    l2, a2, b2 = np.moveaxis(b, -1, 0)
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean ** 7 / (c_mean ** 7 + 25.0 ** 7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0, dh)
    dhh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(np.abs(h1p - h2p) > 180, np.where(h_sum < 360, h_sum + 360, h_sum - 360), h_sum) / 2
    h_mean = np.where(c1p * c2p == 0, h_sum, h_mean)
    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    sl = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    sc = 1 + 0.045 * cp_mean
    sh = 1 + 0.015 * cp_mean * t
    rt = (-2 * np.sqrt(cp_mean ** 7 / (cp_mean ** 7 + 25.0 ** 7))
          * np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2)))))
    return np.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2 + rt * (dc / sc) * (dhh / sh))


def check_delta_e2000():
    """Sharma, Wu and Dalal's own test pairs (table 1, pairs 1, 7, 17 and 25)."""
    pairs = [((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
             ((50, 0, 0), (50, -1, 2), 2.3669),
             ((50, 2.5, 0), (73, 25, -18), 27.1492),
             ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644)]
    for a, b, expected in pairs:
        got = float(delta_e2000(np.array(a, float), np.array(b, float)))
        if abs(got - expected) > 1e-4:
            raise SystemExit(f"colours.py: dE2000{a, b} = {got:.4f}, expected {expected}")


def mean_delta(path_a, path_b):
    a = np.asarray(Image.open(path_a).convert("RGB"))
    b = np.asarray(Image.open(path_b).convert("RGB"))
    if a.shape != b.shape:
        raise SystemExit(f"colours.py: {path_a.name} is {a.shape}, {path_b.name} {b.shape}")
    return float(delta_e2000(lab(a), lab(b)).mean())


def compare(out):
    check_delta_e2000()
    for made in sorted(out.glob("*.out.jpg")):
        name = made.name[: -len(".out.jpg")]
        ref = out / f"{name}.ref.png"
        print(name, f"{mean_delta(made, ref):.3f}", f"{mean_delta(out / f'{name}.untagged.png', ref):.3f}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "compare"):
        raise SystemExit(__doc__)
    {"make": make, "compare": compare}[sys.argv[1]](pathlib.Path(sys.argv[2]))
