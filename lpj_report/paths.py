"""Where the project's data, templates and build output live.

Layer: base (imports no other layer).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
TEMPLATES_DIR = ROOT / "templates"
REPORT_DIR = ROOT / "report"
WAVES_DIR = DATA_DIR / "waves"
PUBLISHED_DIR = DATA_DIR / "published"
