"""``make bench``: every benchmark in this folder, one after another, with its defaults.

Benchmarks only measure and print; none of them asserts a speed.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    for path in sorted(HERE.glob("[!_]*.py")):
        if path.name == "run.py":
            continue
        print(f"== bench/{path.name}", flush=True)
        sys.argv = [str(path)]
        try:
            runpy.run_path(str(path), run_name="__main__")
        except SystemExit as exit_:
            if exit_.code:
                sys.exit(exit_.code)
