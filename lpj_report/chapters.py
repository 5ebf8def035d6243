"""Chapter sources: Markdown files with Jinja placeholders, read into report-context sections.

Layer: format (may import base … generate, and its own layer).

A chapter is ``templates/chapters/NN_name.md`` (files starting with ``_`` are not sections):

* a YAML front matter — ``kind`` (introduction | chapter | appendix), ``id``, ``label``,
  ``title``, optionally ``when`` (the section is left out unless it renders ``True``) and
  ``key_points_title``;
* Markdown: ``## Heading`` opens a text block, paragraphs and ``- `` lists follow;
  ``::: intro``, ``::: {.keypoints title="…"}``, ``::: {.factbox title="…"}`` and
  ``::: metode`` (method and definitions, stated plainly) are fenced divs; a fenced code block
  ```` ```{figure} ```` (or ``{table}``, ``{list}``, ``{items}``, ``{highlight}``,
  ``{figure_index}``, ``{claims_table}``, ``{findings_table}``) holds a block's options as YAML;
* Jinja first (strict: an unknown name is an error): ``{{ F['kap2.laering'].alle.hoej.text }}``
  for a printed number, the helpers of :mod:`lpj_report.report_context`, and

      {% finding "kap2.koen_laering" %}
      {% when supported %}… sentence for a supported finding …
      {% when not_supported %}… no sure evidence (never worded as equality) …
      {% when not_testable %}
      {% endfinding %}

  for any statement of an association, difference, ranking or equality: the branch of the
  finding's verdict is rendered, with the finding's result as ``r`` (``as name`` renames it).
  A finding block must word every verdict the finding can get (an empty branch leaves the
  sentence out); ``{% otherwise %}`` covers the rest. The rendered sentence carries the
  finding's id (lineage: ``data-finding`` in HTML, the ``lineage`` table of figures.json).

Paragraphs come out as lists of segments ``{"text", "findings", "kind"}``: ``findings`` are the
ids (space-separated) of the finding blocks the text came from, ``kind`` is ``metode`` inside
``::: metode``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from markdown_it import MarkdownIt
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from lpj_report import cache
from lpj_report.cli_errors import InputError
from lpj_report.readers import parse_yaml

OPEN, SEP, CLOSE = "\ue000", "\ue001", "\ue002"
CONTAINERS = ("intro", "keypoints", "factbox", "metode")
FENCES = ("figure", "table", "list", "items", "highlight", "figure_index", "claims_table",
          "findings_table")
BRANCH_END = ("name:when", "name:otherwise", "name:endfinding")
_SPACE = re.compile(r"[ \t\r\n]+")      # never \s: it would eat the no-break spaces
_ATTR = re.compile(r'([a-z_]+)="([^"]*)"')
#: A number and its unit stay on one line, also where an author typed a plain space.
_UNIT = re.compile(r"(\d) (%|procentpoint\b|år\b)")


class ChapterError(InputError):
    """A chapter source is malformed or refers to something the build does not have (an input
    error: ``lpj`` prints it as ``error: …`` and exits with 2)."""


# ---------------------------------------------------------------------------- Jinja


class FindingExtension(Extension):
    """``{% finding "id" [as name] %}{% when verdict[, verdict] %}…{% otherwise %}…
    {% endfinding %}``: the branch of the finding's verdict, wrapped in lineage marks.

    The environment's ``finding_verdicts`` maps every finding id to the verdicts it can get;
    an unknown id, a verdict named twice or one left without wording fails at parse time."""

    tags = {"finding", "findings"}

    def parse(self, parser):
        if parser.stream.current.test("name:findings"):
            return self._parse_many(parser)
        lineno = next(parser.stream).lineno
        fid = parser.stream.expect("string").value
        name = "r"
        if parser.stream.skip_if("name:as"):
            name = parser.stream.expect("name").value
        possible = self.environment.finding_verdicts.get(fid)
        if possible is None:
            parser.fail(f"unknown finding {fid!r} (not in data/findings)", lineno)
        lead = parser.parse_statements(BRANCH_END)
        if any(not _blank(n) for n in lead):
            parser.fail(f"finding {fid!r}: text before the first {{% when %}}", lineno)
        branches: list[tuple[tuple[str, ...] | None, list]] = []
        seen: set[str] = set()
        while not parser.stream.current.test("name:endfinding"):
            tok = next(parser.stream)
            verdicts: tuple[str, ...] | None = None
            if tok.test("name:when"):
                names = [parser.stream.expect("name").value]
                while parser.stream.skip_if("comma"):
                    names.append(parser.stream.expect("name").value)
                bad = [v for v in names if v not in possible or v in seen]
                if bad:
                    parser.fail(f"finding {fid!r}: verdict {bad[0]!r} is not one of "
                                f"{sorted(possible)} or is worded twice", tok.lineno)
                seen |= set(names)
                verdicts = tuple(names)
            else:
                verdicts = tuple(sorted(set(possible) - seen))
                seen |= set(verdicts)
            branches.append((verdicts, parser.parse_statements(BRANCH_END)))
        next(parser.stream)
        missing = sorted(set(possible) - seen)
        if missing:
            parser.fail(f"finding {fid!r} has no wording for {', '.join(missing)} "
                        f"(add {{% when {missing[0]} %}}, empty to leave it out)", lineno)
        verdict = nodes.Getattr(nodes.Name(name, "load"), "verdict", "load")
        chain = None
        for verdicts, body in reversed(branches):
            test = nodes.Compare(verdict, [nodes.Operand(
                "in", nodes.Tuple([nodes.Const(v) for v in verdicts], "load"))])
            wrapped = [nodes.Output([nodes.TemplateData(f"{OPEN}{fid}{SEP}")]), *body,
                       nodes.Output([nodes.TemplateData(CLOSE)])]
            chain = nodes.If(test, wrapped, [], [] if chain is None else [chain])
        value = self.call_method("_result", [nodes.ContextReference(), nodes.Const(fid)])
        return nodes.With([nodes.Name(name, "store")], [value], [chain], lineno=lineno)

    def _parse_many(self, parser):
        """``{% findings "a" as x, "b" as y %}…{% endfindings %}``: one sentence built from
        several findings (the body branches on ``x.verdict`` itself); it carries all their
        ids."""
        lineno = next(parser.stream).lineno
        pairs = []
        while True:
            fid = parser.stream.expect("string").value
            if fid not in self.environment.finding_verdicts:
                parser.fail(f"unknown finding {fid!r} (not in data/findings)", lineno)
            parser.stream.expect("name:as")
            pairs.append((fid, parser.stream.expect("name").value))
            if not parser.stream.skip_if("comma"):
                break
        body = parser.parse_statements(("name:endfindings",), drop_needle=True)
        marks_open = "".join(f"{OPEN}{fid}{SEP}" for fid, _ in pairs)
        wrapped = [nodes.Output([nodes.TemplateData(marks_open)]), *body,
                   nodes.Output([nodes.TemplateData(CLOSE * len(pairs))])]
        return nodes.With([nodes.Name(name, "store") for _, name in pairs],
                          [self.call_method("_result", [nodes.ContextReference(),
                                                        nodes.Const(fid)])
                           for fid, _ in pairs], wrapped, lineno=lineno)

    @staticmethod
    def _result(context, fid: str):
        return context["R"][fid]


def _blank(node) -> bool:
    return isinstance(node, nodes.Output) and all(
        isinstance(n, nodes.TemplateData) and not n.data.strip() for n in node.nodes)


def _finalize(value: Any) -> Any:
    """Printed values never break a line (no Markdown can come from the data)."""
    return _SPACE.sub(" ", value) if isinstance(value, str) else value


def text_environment(filters: dict, globals_: dict, finding_verdicts: dict[str, set[str]]
                     ) -> jinja2.Environment:
    """Strict Jinja for the chapter sources. The output is plain text, escaped later by the
    HTML template, so escaping here would escape twice."""
    env = jinja2.Environment(  # plain text; report.html.j2 autoescapes it
        undefined=jinja2.StrictUndefined, autoescape=False,  # noqa: S701
        keep_trailing_newline=True, extensions=[FindingExtension], finalize=_finalize)
    env.finding_verdicts = finding_verdicts
    env.compiled = {}   # source text → template (render_source), kept with the environment
    env.filters.update(filters)
    env.globals.update(globals_)
    return env


# ---------------------------------------------------------------------------- segments


def segments(text: str, kind: str = "") -> list[dict[str, str]]:
    """Rendered text with lineage marks → ``[{text, findings, kind}]`` (whitespace folded,
    empty pieces dropped, neighbours with the same findings joined)."""
    out: list[dict[str, str]] = []
    stack: list[str] = []
    pos = 0
    pieces: list[tuple[str, tuple[str, ...]]] = []
    for m in re.finditer(f"{OPEN}([^{SEP}]*){SEP}|{CLOSE}", text):
        pieces.append((text[pos:m.start()], tuple(stack)))
        if m.group(0) == CLOSE:
            if stack:
                stack.pop()
        else:
            stack.append(m.group(1))
        pos = m.end()
    pieces.append((text[pos:], tuple(stack)))
    for piece, ids in pieces:
        piece = _UNIT.sub("\\1\u00a0\\2", _SPACE.sub(" ", piece))
        if out and out[-1]["text"].endswith(" "):
            piece = piece.lstrip(" ")
        if not piece:
            continue
        if not piece.strip():       # the space between two findings belongs to the first
            if out:
                out[-1]["text"] += " "
            continue
        findings = " ".join(dict.fromkeys(ids))
        if out and out[-1]["findings"] == findings:
            out[-1]["text"] += piece
        else:
            out.append({"text": piece, "findings": findings, "kind": kind})
    if out:
        out[0]["text"] = out[0]["text"].lstrip()
        out[-1]["text"] = out[-1]["text"].rstrip()
    return [s for s in out if s["text"].strip()]


def plain(parts: list[dict[str, str]]) -> str:
    """The text of a segment list."""
    return "".join(s["text"] for s in parts)


# ---------------------------------------------------------------------------- Markdown


def _markdown() -> MarkdownIt:
    md = MarkdownIt("zero").enable(["heading", "list", "fence", "paragraph"])
    md.use(front_matter_plugin)
    for name in CONTAINERS:
        md.use(container_plugin, name=name,
               validate=lambda params, *_, n=name: _container_name(params) == n)
    return md


def _container_name(params: str) -> str:
    head = params.strip().split(" ", 1)[0]
    return head.strip("{}").lstrip(".")


@dataclass
class Source:
    """One chapter file: its front matter (unrendered) and its Jinja text."""

    path: Path
    meta: dict[str, Any]
    text: str

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", "chapter"))


def read_source(path: Path) -> Source:
    text = path.read_text(encoding="utf-8")
    meta: dict[str, Any] = {}
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end < 0:
            raise ChapterError(f"{path.name}: front matter without its closing ---")
        meta = parse_yaml(text[4:end], f"{path.name} (front matter)", 1) or {}
    return Source(path, meta, text)


def balance(rendered: str) -> str:
    """Lineage marks that span a paragraph break (a blank line inside a finding's branch) are
    closed before the break and opened again after it, so every paragraph carries them."""
    lines = rendered.split("\n")
    stack: list[str] = []
    out: list[str] = []
    pending = False
    for line in lines:
        if not line.strip():
            if stack and not pending and out:
                out[-1] += CLOSE * len(stack)
                pending = True
            out.append(line)
            continue
        if pending:     # the marks open again (and are read again below)
            line = "".join(f"{OPEN}{fid}{SEP}" for fid in stack) + line
            stack, pending = [], False
        for m in re.finditer(f"{OPEN}([^{SEP}]*){SEP}|{CLOSE}", line):
            if m.group(0) == CLOSE:
                if stack:
                    stack.pop()
            else:
                stack.append(m.group(1))
        out.append(line)
    return "\n".join(out)


#: How many compiled sources an environment keeps (lpj preview renders the same environment
#: again after every edit; an unchanged chapter is not compiled again).
COMPILED_LIMIT = 64


def _compiled(env: jinja2.Environment, text: str) -> jinja2.Template:
    """``env.from_string(text)``, with the compiled code kept in the build cache in use
    (:mod:`lpj_report.cache`) by the source, the findings' verdicts and the code version."""
    store = cache.current()
    if not store.enabled:
        return env.from_string(text)
    import marshal

    verdicts = sorted((k, sorted(v)) for k, v in getattr(env, "finding_verdicts", {}).items())
    entry = cache.key("chapter-code", cache.code_version(), jinja2.__version__, verdicts, text)
    data = store.get("chapter-code", entry)
    try:
        code = marshal.loads(data) if data is not None else None
    except (EOFError, ValueError, TypeError):
        code = None
    if code is None:
        code = env.compile(text)
        store.put("chapter-code", entry, marshal.dumps(code))
    return env.template_class.from_code(env, code, env.make_globals(None), None)


def _template(env: jinja2.Environment, text: str) -> jinja2.Template:
    compiled = getattr(env, "compiled", None)
    if compiled is None:
        return _compiled(env, text)
    template = compiled.pop(text, None) or _compiled(env, text)
    compiled[text] = template          # the most recent last
    while len(compiled) > COMPILED_LIMIT:
        del compiled[next(iter(compiled))]
    return template


def render_source(src: Source, env: jinja2.Environment, variables: dict[str, Any]) -> str:
    try:
        return balance(_template(env, src.text).render(variables))
    except jinja2.TemplateSyntaxError as err:
        raise ChapterError(f"{src.path.name}, line {err.lineno}: {err.message}") from None
    except jinja2.TemplateError as err:
        raise ChapterError(f"{src.path.name}: {err}") from None
    except (ValueError, KeyError, IndexError, TypeError, ZeroDivisionError) as err:
        # a helper that cannot word what the data give (no values to name or span): the
        # source's line, the helper's reason, and the likely cause
        line = _template_line(err.__traceback__)
        at = f", line {line}" if line else ""
        raise ChapterError(f"{src.path.name}{at}: {err}; the data in hand may have too few "
                           "answers for this sentence (see the numbers it uses)") from None


def _template_line(tb) -> int | None:
    """The line of the chapter source where an error raised inside its template happened."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def parse(rendered: str, where: str) -> dict[str, Any]:
    """Rendered Markdown → a raw section: front matter keys, ``intro``, ``key_points``,
    ``blocks`` (text, list, factbox, and fence blocks with their YAML options)."""
    section: dict[str, Any] = {"intro": [], "key_points": [], "blocks": []}
    tokens = _markdown().parse(rendered)
    i = 0
    container: dict[str, Any] | None = None
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "front_matter":
            section.update(parse_yaml(tok.content, f"{where} (front matter)") or {})
        elif tok.type.startswith("container_") and tok.nesting == 1:
            name = _container_name(tok.info)
            container = {"name": name, **dict(_ATTR.findall(tok.info)), "paragraphs": [],
                         "items": [], "fences": []}
        elif tok.type.startswith("container_") and tok.nesting == -1:
            _close(section, container, where)
            container = None
        elif tok.type == "heading_open":
            section["blocks"].append({"type": "text", "heading": _inline(tokens[i + 1]),
                                      "paragraphs": []})
            i += 2
        elif tok.type == "paragraph_open":
            kind = "metode" if container and container["name"] == "metode" else ""
            para = segments(tokens[i + 1].content, kind)
            if para:
                if container is not None:
                    container["paragraphs"].append(para)
                else:
                    _text_block(section)["paragraphs"].append(para)
            i += 2
        elif tok.type == "bullet_list_open":
            items, i = _list_items(tokens, i)
            if container is not None:
                container["items"].extend(items)
            else:
                _list_block(section, items)
        elif tok.type == "fence":
            spec = _fence(tok, where)
            if container is not None:
                container["fences"].append(spec)
            else:
                section["blocks"].append(spec)
        i += 1
    return section


def _inline(tok) -> str:
    return _SPACE.sub(" ", tok.content).strip()


def _text_block(section: dict) -> dict:
    blocks = section["blocks"]
    if not blocks or blocks[-1].get("type") != "text":
        blocks.append({"type": "text", "heading": "", "paragraphs": []})
    return blocks[-1]


def _list_block(section: dict, items: list) -> None:
    blocks = section["blocks"]
    if blocks and blocks[-1].get("type") == "text" and not blocks[-1]["paragraphs"]:
        heading = blocks.pop()["heading"]
    else:
        heading = ""
    if items:
        blocks.append({"type": "list", "heading": heading, "items": items})


def _list_items(tokens, i: int) -> tuple[list, int]:
    items = []
    depth = 0
    while True:
        tok = tokens[i]
        if tok.type == "bullet_list_open":
            depth += 1
        elif tok.type == "bullet_list_close":
            depth -= 1
            if depth == 0:
                return items, i
        elif tok.type == "inline":
            item = segments(tok.content)
            if item:
                items.append(item)
        i += 1


def _fence(tok, where: str) -> dict[str, Any]:
    kind = tok.info.strip().strip("{}")
    if kind not in FENCES:
        raise ChapterError(f"{where}: unknown block ```{{{kind}}}``` (use one of {FENCES})")
    spec = parse_yaml(tok.content, f"{where}, a ```{{{kind}}}``` block") or {}
    if not isinstance(spec, dict):
        raise ChapterError(f"{where}: ```{{{kind}}}``` block must hold key: value lines")
    return {"fence": kind, **spec}


def _close(section: dict, box: dict | None, where: str) -> None:
    if box is None:
        return
    name = box["name"]
    if name == "intro":
        section["intro"].extend(box["paragraphs"])
    elif name == "keypoints":
        section["key_points"].extend(box["items"])
        if box["paragraphs"]:       # the lead-in the "at …" points continue
            section["key_points_lead"] = box["paragraphs"][0]
        if box.get("title"):
            section["key_points_title"] = box["title"]
    elif name == "metode":
        _text_block(section)["paragraphs"].extend(box["paragraphs"])
        if box["items"]:
            for item in box["items"]:
                for seg in item:
                    seg["kind"] = seg["kind"] or "metode"
            section["blocks"].append({"type": "list", "heading": "", "items": box["items"]})
    else:
        block = {"type": "factbox", "title": box.get("title", ""),
                 "paragraphs": box["paragraphs"], "items": box["items"]}
        for spec in box["fences"]:
            if spec["fence"] != "items":
                raise ChapterError(f"{where}: a fact box holds only ```{{items}}``` blocks")
            block["items_from"] = {k: v for k, v in spec.items() if k != "fence"}
        section["blocks"].append(block)
