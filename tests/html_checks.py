"""Browser checks of a report's HTML: the Nu Html Checker (vnu) and axe-core (WCAG 2.1 AA).

Used by tests/test_build_quality.py and by ``make check-html`` (``python tests/html_checks.py
FILE…``). The tools come from ``npm ci`` (vnu-jar, axe-core, playwright-core in package.json),
Debian's ``chromium`` and Java 17+; ``make htmldeps`` installs what is missing when it can.
Never downloads a browser.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
INSTALL_HINT = "run `make htmldeps` (as root: apt-get install -y chromium; npm ci)"

AXE_SCRIPT = r"""
const { chromium } = require('playwright-core');
(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: [
    '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'] });
  const out = {};
  for (const [name, width] of [['desktop', 1280], ['phone', 375]]) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(process.env.PAGE_URL);
    await page.evaluate(
      () => document.querySelectorAll('details').forEach(d => { d.open = true; }));
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
    const result = await page.evaluate(() => axe.run(document, { runOnly: { type: 'tag',
      values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth);
    const broken = await page.evaluate(() => [...document.images]
      .filter(img => !img.complete || img.naturalWidth === 0).map(img => img.alt));
    out[name] = { overflow, broken, violations: result.violations.map(v => ({ id: v.id,
      help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) })) };
  }
  await browser.close();
  process.stdout.write(JSON.stringify(out));
})().catch(error => { console.error(error); process.exit(2); });
"""


PHONE_SCRIPT = r"""
const { chromium } = require('playwright-core');
(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: [
    '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'] });
  const width = parseInt(process.env.WIDTH, 10);
  const page = await browser.newPage({ viewport: { width, height: 844 }, deviceScaleFactor: 1 });
  await page.goto(process.env.PAGE_URL);
  await page.evaluate(
    () => document.querySelectorAll('details').forEach(d => { d.open = true; }));
  await page.evaluate(() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 50))));
  const out = await page.evaluate(() => ({
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    charts: [...document.querySelectorAll('img.chart')].map(img => ({
      figure: img.closest('figure') ? img.closest('figure').id : '',
      width: img.getBoundingClientRect().width, src: img.currentSrc })),
    tables: [...document.querySelectorAll('.table-scroll')].map(box => {
      const hint = box.previousElementSibling;
      const shown = !!hint && hint.classList.contains('scroll-hint')
        && getComputedStyle(hint).display !== 'none' && hint.getBoundingClientRect().height > 0;
      return { caption: box.getAttribute('aria-labelledby'), scrollWidth: box.scrollWidth,
               clientWidth: box.clientWidth, overflowX: getComputedStyle(box).overflowX,
               hint: shown };
    }),
    targets: [...document.querySelectorAll('figure[id], .table-block[id]')].map(e => e.id),
    links: [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href').slice(1)),
  }));
  await browser.close();
  process.stdout.write(JSON.stringify(out));
})().catch(error => { console.error(error); process.exit(2); });
"""


def phone_report(path: Path, width: int = 390) -> dict:
    """The page at ``width`` CSS px in Chromium, every ``<details>`` open: each chart's
    rendered width and the image it shows (``currentSrc``), each table box's scroll and client
    width and whether its scroll hint shows, the ids of figures and tables, the ``#`` links."""
    env = {**os.environ, "CHROMIUM": shutil.which("chromium") or "",
           "PAGE_URL": Path(path).resolve().as_uri(), "WIDTH": str(width)}
    result = subprocess.run(
        [shutil.which("node") or "node", "-e", PHONE_SCRIPT], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"phone check failed to run: {result.stderr.strip()}")
    return json.loads(result.stdout)


def vnu_missing() -> str | None:
    """Why vnu cannot run here, or None."""
    if shutil.which("java") is None:
        return "vnu needs Java 17+ (apt-get install -y default-jre-headless)"
    if not VNU_JAR.exists():
        return f"node_modules/vnu-jar is not installed: {INSTALL_HINT}"
    return None


def axe_missing() -> str | None:
    """Why the axe check cannot run here, or None."""
    if shutil.which("node") is None:
        return "the axe check needs node (apt-get install -y nodejs npm)"
    if shutil.which("chromium") is None:
        return f"the axe check needs Debian's chromium: {INSTALL_HINT}"
    for package in ("axe-core", "playwright-core"):
        if not (NODE_MODULES / package).is_dir():
            return f"node_modules/{package} is not installed: {INSTALL_HINT}"
    return None


def vnu_errors(*paths: Path) -> str:
    """vnu's error messages for the files ('' when they are valid)."""
    result = subprocess.run(
        [shutil.which("java") or "java", "-jar", str(VNU_JAR), "--errors-only",
         *map(str, paths)],
        capture_output=True, text=True, timeout=300,
    )
    if result.returncode == 0:
        return ""
    return (result.stderr + result.stdout).strip() or f"vnu exited {result.returncode}"


def axe_report(path: Path) -> dict:
    """axe-core WCAG 2.1 A/AA violations, horizontal overflow (px) and images that did not
    load, on a desktop (1280 px) and a phone (375 px) screen: ``{viewport: {...}}``."""
    env = {**os.environ, "CHROMIUM": shutil.which("chromium") or "",
           "PAGE_URL": Path(path).resolve().as_uri()}
    result = subprocess.run(
        [shutil.which("node") or "node", "-e", AXE_SCRIPT], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"axe check failed to run: {result.stderr.strip()}")
    return json.loads(result.stdout)


def axe_problems(report: dict) -> list[str]:
    """The report of :func:`axe_report` as readable lines (empty when all is well)."""
    lines = []
    for viewport, found in report.items():
        for v in found["violations"]:
            lines.append(f"{viewport}: {v['id']} ({v['help']}): {', '.join(v['nodes'])}")
        if found["overflow"] > 0:
            lines.append(f"{viewport}: page is {found['overflow']} px wider than the screen")
        for alt in found["broken"]:
            lines.append(f"{viewport}: image did not load: {alt[:60]!r}")
    return lines


def main(argv: list[str]) -> int:
    """``python tests/html_checks.py FILE…``: vnu and axe on each file; exit 1 on a problem."""
    if not argv:
        print("usage: python tests/html_checks.py FILE.html…", file=sys.stderr)
        return 2
    for reason in filter(None, (vnu_missing(), axe_missing())):
        print(f"cannot check: {reason}", file=sys.stderr)
        return 2
    paths = [Path(a) for a in argv]
    failed = False
    errors = vnu_errors(*paths)
    print("vnu: " + ("valid" if not errors else "errors"))
    if errors:
        print(errors)
        failed = True
    for path in paths:
        problems = axe_problems(axe_report(path))
        print(f"axe WCAG 2.1 AA, {path}: " + ("no violations" if not problems else "problems"))
        for line in problems:
            print("  " + line)
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
