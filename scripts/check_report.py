"""Render a lab report in headless Chromium and fail if any figure does not load.

    python scripts/check_report.py report/index.html [--screenshot shot.png]

Installs Debian's chromium with apt-get when it is missing and we are root. The page
counts its loaded images on load into <meta name="figures-loaded" content="ok/total">.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from collapselab.cli import ArgumentParser, output_file
from collapselab.errors import UserError, fail

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--allow-file-access-from-files", "--virtual-time-budget=10000"]


BROWSERS = ("chromium", "chromium-browser", "google-chrome")
NOT_ON_PATH = f"Chromium not found: none of {', '.join(BROWSERS)} is on PATH"
HOW = "or add the folder holding one to PATH (PATH=/path/to/its/folder:$PATH)"


def find_chromium(install: bool) -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if install and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("check_report: installing Debian's chromium (one time)...", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
            done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if done.returncode != 0:  # offline, a held lock, no such package: apt's last line says which
                said = (done.stderr.strip().splitlines() or ["no message"])[-1].strip()
                fail(f"{NOT_ON_PATH}, and installing it failed ({' '.join(cmd[:2])}: exit {done.returncode}, "
                     f"{said}); install it yourself (apt-get install chromium) {HOW}")
        path = shutil.which("chromium")
        if path:
            return path
        fail(f"{NOT_ON_PATH}, though apt-get install chromium succeeded; add the folder holding it to PATH "
             "(PATH=/path/to/its/folder:$PATH)")
    fail(f"{NOT_ON_PATH}; install it (as root: apt-get install chromium, which this script runs itself when run "
         f"as root without --no-install) {HOW}")


def main() -> int:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("--screenshot", type=Path)
    ap.add_argument("--no-install", action="store_true")
    args = ap.parse_args()
    if not args.index.is_file():
        print(f"error: index={str(args.index)!r} is not a file", file=sys.stderr)
        return 2
    if args.screenshot:
        try:
            output_file("--screenshot", args.screenshot)
        except UserError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    chromium = find_chromium(not args.no_install)
    url = args.index.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium, *FLAGS, f"--user-data-dir={profile}"]
        dom = subprocess.run([*cmd, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
        if args.screenshot:
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)  # the folders output_file allowed to be missing
            subprocess.run([*cmd, f"--screenshot={args.screenshot.resolve()}", "--window-size=1280,4000", url],
                           capture_output=True, timeout=120)
    m = re.search(r'name="figures-loaded" content="(\d+)/(\d+)"', dom)
    if not m:
        print("error: the page did not report its figures (script did not run?)", file=sys.stderr)
        return 1
    ok, total = int(m.group(1)), int(m.group(2))
    print(f"check_report: {ok}/{total} figures loaded in {args.index}")
    if total == 0 or ok < total:
        broken = re.findall(r'<img[^>]*class="broken"[^>]*src="([^"]+)"|<img[^>]*src="([^"]+)"[^>]*class="broken"', dom)
        print(f"error: {total - ok} figure(s) failed to load: {[a or b for a, b in broken]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
