"""lpj-report: the figures and report of 'Læring på jobbet' from respondent-level data."""

__version__ = "0.1.0"
