"""The two processes that render PDF parts side by side (lpj_report/pdf_pool.py), with a stand-in
for WeasyPrint: each "part" is laid out as one page per character of its text, after a pause
that makes the helpers finish out of order. The real parts are checked in
tests/test_pdf_parts.py (the 2002 report rendered this way is the whole document)."""

from __future__ import annotations

import logging
import os
import time
import warnings

import pytest

from lpj_report import cache, pdf_join, pdf_pool


def fake_render(html: str, write: bool, elsewhere: frozenset, ready) -> pdf_join.Part:
    if html == "boom":
        logging.getLogger("weasyprint").error("about to fail on %s", html)
        raise ValueError("the part could not be laid out: boom")
    time.sleep(0.05 if len(html) % 2 else 0.0)   # odd parts take longer
    facts = pdf_join.Part(pages=len(html), heights=(1.0,) * len(html), bookmarks=(),
                          anchor_pages={html: 0})
    ready(facts)
    logging.getLogger("weasyprint").warning("laid out %s", html)
    if html.startswith("w"):
        warnings.warn(f"a warning from {html}", UserWarning, stacklevel=1)
    time.sleep(0.05 if len(html) % 2 else 0.0)
    return facts.with_pdf(f"%PDF {html}".encode()) if write else facts


PARTS = ("a", "bb", "wccc", "dddd", "eeeee", "ffffff", "ggggggg")


def render_all(parallel: bool, caplog, keys: bool = False) -> tuple[list, list, list]:
    with caplog.at_level(logging.WARNING, logger="weasyprint"), \
            warnings.catch_warnings(record=True) as caught, \
            pdf_pool.Pool(fake_render, parallel=parallel) as pool:
        warnings.simplefilter("always")
        tickets = []
        for n, html in enumerate(PARTS):
            ticket = pool.submit(html, n > 0, frozenset(), cache.key("test", html) if keys else None)
            assert pool.facts(ticket).pages == len(html)   # the facts before the next part
            tickets.append(ticket)
        parts = [pool.part(t) for t in tickets]
        pool.replay()
        helpers = [pid for _, pid in pool._helpers]
    for pid in helpers:   # every helper ended and reaped
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    messages = [r.getMessage() for r in caplog.records if r.name == "weasyprint"]
    return parts, messages, [str(w.message) for w in caught]


def test_parts_come_back_whole_and_their_records_in_the_order_asked(caplog):
    parts, messages, caught = render_all(True, caplog)
    assert [p.pages for p in parts] == [len(h) for h in PARTS]
    assert parts[0].pdf is None and [p.pdf for p in parts[1:]] == [
        f"%PDF {h}".encode() for h in PARTS[1:]]
    assert messages == [f"laid out {h}" for h in PARTS]
    assert caught == ["a warning from wccc"]


def test_the_same_parts_and_records_as_rendered_one_after_the_other(caplog):
    pooled = render_all(True, caplog)
    caplog.clear()
    assert render_all(False, caplog) == pooled


def test_parts_in_the_cache_are_not_rendered_again(caplog, tmp_path):
    with cache.using(cache.Cache(tmp_path)):
        first = render_all(True, caplog, keys=True)
        caplog.clear()
        again = render_all(True, caplog, keys=True)
    assert again[0] == first[0]
    assert again[1] == [] and again[2] == []   # nothing rendered: nothing logged


def test_a_helpers_error_is_raised_here_with_what_it_logged_before(caplog):
    with caplog.at_level(logging.WARNING, logger="weasyprint"), \
            pdf_pool.Pool(fake_render, parallel=True) as pool:
        first = pool.submit("a", True, frozenset(), None)
        pool.facts(first)
        failing = pool.submit("boom", True, frozenset(), None)
        with pytest.raises(ValueError, match="could not be laid out: boom"):
            pool.facts(failing)
        helpers = [pid for _, pid in pool._helpers]
    assert [r.getMessage() for r in caplog.records] == ["laid out a", "about to fail on boom"]
    for pid in helpers:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
