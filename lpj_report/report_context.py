"""Assemble the report context (docs/report-context.md) from a build.

Layer: render (may import base … charts, and its own layer).

The Danish text lives in ``templates/chapters/*.md`` (:mod:`lpj_report.chapters`: Markdown with
strict Jinja placeholders). The sources see

* ``F[figure id]`` — every figure (:class:`lpj_report.content.FigureView`): printed values,
  bases, confidence intervals and the computed orders (``highest``, ``top_categories``, …) for
  descriptive lists; ties decided on the printed values;
* ``R[finding id]`` — every finding's result (:class:`lpj_report.finding_views.FindingView`),
  used inside ``{% finding %}`` blocks: any statement of an association, difference, ranking or
  equality is worded from its verdict there;
* ``W`` — survey facts; ``Y`` — the predecessor wave's changes; ``O`` — Danish phrases per key
  (``templates/chapters/_ord.yaml``) with the helpers ``group_names(values, form)``,
  ``category_names``, ``group_list``/``category_list`` (with the values) and ``name_of``;
  ``D`` — the design facts of the method appendix (design effects, margins of error);
* fenced blocks: ``{figure}``/``{table}`` (a figure by id, with ``categories``, ``category``,
  ``labels``, ``sort``, ``transpose``, ``table_categories``, ``base_label``), ``{list}`` and a
  fact box's ``{items}`` (items from a computed order: ``{figure, group|category, top,
  numbered, exclude}`` or ``{wave: key, suffix}``), ``{highlight}``, ``{figure_index}``,
  ``{claims_table}`` and ``{findings_table}``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lpj_report import format as fmt
from lpj_report import paired, places
from lpj_report.chapters import ChapterError, parse, read_source, render_source, text_environment
from lpj_report.content import (
    SUPPRESSED,
    FigureView,
    alt_text,
    build_views,
    table_of,
)
from lpj_report.finding_views import FindingView, finding_views, possible_verdicts
from lpj_report.paths import TEMPLATES_DIR
from lpj_report.provenance import git_version
from lpj_report.readers import read_yaml
from lpj_report.trend import attach, previous_table, significant_changes

CHAPTERS_DIR = TEMPLATES_DIR / "chapters"
WORDS_FILE = CHAPTERS_DIR / "_ord.yaml"
#: Keys of a figure or table block that choose what its chart or table shows (content.py).
CHART_OPTIONS = ("categories", "category", "sort", "labels")
TABLE_OPTIONS = {"table_categories": "categories", "transpose": "transpose",
                 "base_label": "base_label", "labels": "labels"}


TemplateError = ChapterError   # a chapter refers to something the build does not have

def _own(key: str):
    """The report's own wording (``rapport:`` of ``templates/chapters/_ord.yaml``)."""
    return words()["rapport"][key]


def _population_text(fig, codebook) -> str:
    """Who a figure counts, in Danish: the population and any extra filter."""
    from lpj_report.content import POPULATION_LABELS

    text = POPULATION_LABELS.get(fig.population, fig.population)
    for name, keys in fig.filter.items():
        var = codebook[name]
        rest = [k for k in var.keys if k not in keys]
        if len(keys) > 3 and len(rest) <= 2:
            text += _own("undtagen") + fmt.join_words([lcfirst(var.label_of(k)) for k in rest], "og")
        else:
            text += ", " + _phrase("variabel", name, lcfirst(var.label)) + ": " + fmt.join_words(
                [lcfirst(var.label_of(k)) for k in keys], "eller")
    return text


def figure_index(block: dict, views: dict[str, FigureView], registry: dict,
                 variables: dict[str, Any], where: str) -> dict:
    """A table block listing every registered figure (or those of ``sections``): title, id,
    who is counted, the statistic and the base n of the whole population."""
    codebook = variables["_codebook"]
    sections = block.get("sections")
    rows = []
    for fid, fig in registry.items():
        if sections and fig.section not in sections:
            continue
        statistic = _own("statistik").get(fig.statistic, fig.statistic)
        if fig.breakdown:
            statistic += _own("fordelt_paa") + _phrase("variabel", fig.breakdown,
                                                  lcfirst(codebook[fig.breakdown].label))
        base = fmt.count(views[fid].base_n) if fid in views else "–"
        rows.append([fig.title, fid, _population_text(fig, codebook), statistic, base,
                     _margin(views.get(fid))])
    if not rows:
        raise TemplateError(f"{where}: no figures for sections {sections}")
    own = _own("figuroversigt")
    return _table_block(block, own["titel"], list(own["kolonner"]), rows)


def _margin(view: FigureView | None) -> str:
    """The widest 95 % interval of a figure's total row as ±half-width ("±2,6 pct.point")."""
    halves = [v.ci_half for v in view.alle.values() if v.ci_half is not None] if view else []
    if not halves:
        return "–"
    if view.unit == "years":
        return "±" + fmt.years(max(halves), 1)
    return "±" + fmt.number(max(halves), 1) + fmt.NBSP + "pct.point"



def _p_cell(text: str) -> str:
    return text.removeprefix("p = ").removeprefix("p ")


def claims_table(block: dict, variables: dict[str, Any], where: str) -> dict:
    """A table block with every claim of the publication: the statement, its finding's test,
    n, p, the corrected p and how the claim fares in the data."""
    own = _own("udsagn")
    rows = []
    for claim in variables["_claims"]:
        r: FindingView = variables["R"][claim.finding]
        outcome = (own["ikke_testbar"] if r.verdict == "not_testable"
                   else own["udfald"][f"{claim.expect}/{r.verdict}"])
        rows.append([claim.statement, r.test, r.n, _p_cell(r.p), _p_cell(r.q), outcome])
    if not rows:
        raise TemplateError(f"{where}: no claims to list")
    return _table_block(block, own["titel"], list(own["kolonner"]), rows)


def findings_table(block: dict, variables: dict[str, Any], where: str) -> dict | None:
    """A table block with every finding of one family (``family:``) or all: what is tested,
    the test, n, p, the corrected p (Benjamini–Hochberg within the family) and the verdict."""
    fam = block.get("family")
    rows = [[r.statement, r.test, r.n, _p_cell(r.p), _p_cell(r.q), r.verdict_text]
            for r in variables["R"].values() if not fam or r.family == fam]
    if not rows:
        return None     # a family without findings in this build: no table
    own = _own("resultater")
    return _table_block(block, own["titel"], list(own["kolonner"]), rows)


def _table_block(block: dict, title: str, columns: list[str], rows: list[list[str]]) -> dict:
    """A generated table block; its title and note may be given in the block."""
    return {"type": "table", "title": str(block.get("title") or title),
            "note": str(block.get("note", "")), "table": {"columns": columns, "rows": rows}}


def lcfirst(text: str) -> str:
    """A label inside a sentence: first letter lower-cased unless the word is an abbreviation
    (``Opbakning fra kolleger`` → ``opbakning fra kolleger``; ``HF-uddannelse`` stays)."""
    text = str(text)
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def ucfirst(text: str) -> str:
    """A phrase at the start of a sentence: ``i dagplejen`` → ``I dagplejen``."""
    text = str(text)
    return text[:1].upper() + text[1:]


@cache
def words() -> dict[str, dict[str, str]]:
    """Danish phrases per key (``templates/chapters/_ord.yaml``): how a group is named in a
    sentence ("i dagplejen", "dagplejerne")."""
    if not WORDS_FILE.exists():
        return {}
    return read_yaml(WORDS_FILE, "phrase file") or {}


def _phrase(form: str, key: str, fallback: str) -> str:
    return (words().get(form) or {}).get(key) or fallback


def group_names(values, form: str = "navn", conjunction: str = "og") -> str:
    """The groups of ``values`` (content.Value) named by ``form`` of _ord.yaml, joined in Danish:
    ``group_names(F[id].highest('hoej'), 'sted_i')`` → ``i fritidsordninger og fritidsklubber``.
    Without a phrase the label is used inside the sentence (``form='label'``: as it is)."""
    return fmt.join_words([_phrase(form, v.group, v.group_label if form == "label"
                                   else lcfirst(v.group_label)) for v in values], conjunction)


def category_names(values, form: str = "navn", conjunction: str = "og") -> str:
    """The categories of ``values`` named by ``form`` of _ord.yaml (default: the label in a
    sentence; ``form='label'``: as it is), joined in Danish."""
    return fmt.join_words([_phrase(form, v.category, v.label if form == "label"
                                   else lcfirst(v.label)) for v in values], conjunction)


def category_list(values, form: str = "navn", conjunction: str = "og") -> str:
    """The categories of ``values`` with their values: ``opbakning fra kolleger (40 %),
    udfordrende arbejdsopgaver (37 %) og egen nysgerrighed (34 %)``."""
    return fmt.join_words([f"{_phrase(form, v.category, lcfirst(v.label))} ({v.text})"
                           for v in values], conjunction)


def group_list(values, form: str = "navn", conjunction: str = "og") -> str:
    """The groups of ``values`` with their values: ``i dagplejen (57 %) og på skolerne (50 %)``."""
    return fmt.join_words([f"{_phrase(form, v.group, lcfirst(v.group_label))} ({v.text})"
                           for v in values], conjunction)


def between(values) -> str:
    """The span of printed values: ``mellem 8 % og 15 %``, or ``11 %`` when all print alike
    (``values`` highest first or in any order)."""
    shown = [v for v in values if v.value is not None]
    if not shown:
        raise ValueError("no values to span")
    lo = min(shown, key=lambda v: v.printed)
    hi = max(shown, key=lambda v: v.printed)
    return lo.text if lo.printed == hi.printed else f"mellem {lo.text} og {hi.text}"


def name_of(key: str, form: str = "navn") -> str:
    """One key's phrase (``name_of('dagpleje', 'i')`` → ``i dagplejen``)."""
    return _phrase(form, key, key)


#: Helpers the chapter sources may call (besides the filters of lpj_report.format).
def _globals() -> dict[str, Any]:
    return {"group_names": group_names, "category_names": category_names, "name_of": name_of,
            "category_list": category_list, "group_list": group_list, "between": between,
            "vs_all": paired.vs_all}


def _filters() -> dict[str, Any]:
    return {**fmt.FILTERS, "lcfirst": lcfirst, "ucfirst": ucfirst}


def _figure_block(raw: dict, views: dict[str, FigureView], registry: dict, where: str,
                  charts: bool = True, unit: dict[str, Any] | None = None) -> dict:
    """A ``{figure}``/``{table}`` block: the figure's chart and its table. In a municipality's
    edition (``unit``) a figure its manifest publishes shows the municipality beside all
    municipalities (:mod:`lpj_report.paired`); any other says that it is the whole survey's."""
    fid = raw["figure"]
    if fid not in views:
        raise TemplateError(f"{where}: unknown figure {fid!r}")
    view, fig = views[fid], registry[fid]
    if unit and view.compared_cells:
        try:
            return paired.block(raw, view, unit["navn"], unit["mark"], unit["min_base"],
                                charts=charts)
        except KeyError as err:
            raise TemplateError(f"{where}: figure {fid} has no category {err}") from None
    options = {k: raw[k] for k in CHART_OPTIONS if k in raw}
    table_options = {arg: raw[k] for k, arg in TABLE_OPTIONS.items() if k in raw}
    try:
        table = table_of(view, **table_options, ci=raw["type"] == "figure")
    except KeyError as err:
        raise TemplateError(f"{where}: figure {fid} has no category {err}") from None
    block = {"type": raw["type"], "title": raw.get("title") or view.title,
             "table": table, "note": raw.get("note", ""), "figure": fid}
    block["note"] = block["note"] or _own("kilde").format(population=view.population,
                                                          base=view.base, figur=fid)
    if raw["type"] == "figure" and any("[" in cell for row in table["rows"] for cell in row):
        block["note"] += " " + _own("note_interval").replace("95 %", f"95{fmt.NBSP}%")
    if any(SUPPRESSED in cell for row in table["rows"] for cell in row):
        block["note"] += " " + _own("note_skjult").format(mark=SUPPRESSED)
    if unit:
        block["note"] += " " + paired.text("note_hele")
    if raw["type"] == "figure" and _without_numbers(view):
        block["type"] = "table"     # nothing to draw: the table with its marks, and why
        block["note"] += " " + _own("ingen_tal")
    if block["type"] == "figure":
        try:
            from lpj_report.figure_charts import chart_svg  # matplotlib: only to draw

            svg = chart_svg(view, fig, options) if charts else paired.EMPTY_SVG
        except (KeyError, ValueError) as err:
            raise TemplateError(f"{where}: figure {fid}: {err}") from None
        if svg is None:
            raise TemplateError(f"{where}: figure {fid} has no chart type (use type: table)")
        block["svg"] = svg
        block["alt"] = raw.get("alt") or alt_text(view, options)
    return block


def _without_numbers(view: FigureView) -> bool:
    """True when the figure has no number to show: no answers, or every number withheld."""
    return all(v.value is None for cells in view.cell.values() for v in cells.values())


def ranked_items(spec: dict, views: dict[str, FigureView], variables: dict[str, Any],
                 where: str) -> list[str]:
    """List items from a figure's computed order (``items_from`` of a list or fact box):
    ``{figure, group, top}`` ranks the categories of a group, ``{figure, category, top}`` the
    groups on one category; ``exclude`` leaves keys out; ``numbered`` prefixes the place (tied
    values share a place). Each item is ``Label (value)``. ``{wave: key, suffix}`` lists a survey
    fact instead (``W.municipalities``)."""
    if "wave" in spec:
        return [f"{item}{spec.get('suffix', '')}" for item in variables["W"][spec["wave"]]]
    fid = spec.get("figure")
    if fid not in views:
        raise TemplateError(f"{where}: unknown figure {fid!r}")
    view = views[fid]
    exclude = tuple(spec.get("exclude") or ())
    top = int(spec.get("top", 0)) or None
    by_group = "category" in spec
    if by_group:
        values = view.groups_by(spec["category"], exclude)
    else:
        values = view.categories_by(spec.get("group", "alle"), exclude)
    if top is not None and values:
        values = [v for v in values if v.printed >= values[min(top, len(values)) - 1].printed]
    items = []
    for v in values:
        place = 1 + sum(1 for w in values if w.printed > v.printed)
        prefix = f"{place}. " if spec.get("numbered") else ""
        items.append(f"{prefix}{v.group_label if by_group else v.label} ({v.text})")
    known = (spec["category"] in dict(view.categories) if by_group
             else spec.get("group", "alle") in dict(view.groups))
    if not items and known:
        return [_own("ingen_tal")]    # too few answers (none, or all withheld): said
    if not items:
        raise TemplateError(f"{where}: figure {fid} gives no items")
    return items


def _unit(variables: dict[str, Any]) -> dict[str, Any] | None:
    """The municipality of an edition (``U``), None in the annual report."""
    unit = variables.get("U") or {}
    return unit if unit.get("kommune") else None


def _block(spec: dict, views: dict[str, FigureView], registry: dict,
           variables: dict[str, Any], where: str) -> dict:
    """A section's raw block (chapters.parse) → a report-context block."""
    kind = spec.get("fence")
    if kind is None:
        return spec
    options = {k: v for k, v in spec.items() if k != "fence"}
    if kind in ("figure", "table") and "figure" in options:
        return _figure_block({"type": kind, **options}, views, registry, where,
                             charts=variables.get("_charts", True),
                             unit=_unit(variables))
    if kind == "table":
        return {"type": "table", **options}
    if kind == "list":
        items = ranked_items(options, views, variables, where)
        return {"type": "list", "heading": str(options.get("heading", "")),
                "items": [[{"text": t, "findings": "", "kind": ""}] for t in items]}
    if kind == "highlight":
        return {"type": "highlight", "value": str(options["value"]), "text": str(options["text"])}
    if kind == "figure_index":
        return figure_index(options, views, registry, variables, where)
    if kind == "claims_table":
        return claims_table(options, variables, where)
    if kind == "findings_table":
        return findings_table(options, variables, where)
    raise TemplateError(f"{where}: a ```{{{kind}}}``` block belongs in a fact box")


def _narrowed(specs: list[dict], headings: tuple[str, ...], intro: bool,
              where: str) -> list[tuple[int, dict]]:
    """The blocks of the ``## `` sections named by ``headings`` (and of the text before the
    first heading when ``intro``), with their places in the source."""
    found = [s["heading"] for s in specs if s.get("type") in ("text", "list") and s.get("heading")]
    unknown = [h for h in headings if h not in found]
    if unknown:
        raise TemplateError(f"{where}: no section headed {unknown[0]!r}; the headings are: "
                            + "; ".join(found))
    kept, current = [], None
    for i, spec in enumerate(specs):
        if spec.get("type") in ("text", "list") and spec.get("heading"):
            current = spec["heading"]
        if (current is None and intro) or current in headings:
            kept.append((i, spec))
    return kept


def section(path: Path, env, variables: dict[str, Any], views: dict[str, FigureView],
            registry: dict, headings: tuple[str, ...] | None = None,
            intro: bool = True) -> dict | None:
    """One section from its Markdown source: Jinja rendered, Markdown parsed, figure and
    generated blocks built. None when its ``when`` is not ``True``. ``headings``: only these
    ``## `` sections (an edition's manifest), ``intro``: and the text before the first."""
    src = read_source(path)
    where = path.name
    rendered = render_source(src, env, variables)
    raw = parse(rendered, where)
    if "when" in raw and str(raw["when"]).strip() != "True":
        return None
    specs = raw.pop("blocks")
    chosen = (list(enumerate(specs)) if headings is None
              else _narrowed(specs, headings, intro, where))
    if not intro:
        raw["intro"], raw["key_points"] = [], []
    blocks = []
    for i, spec in chosen:
        if spec.get("type") == "factbox" and "items_from" in spec:
            items_spec = spec.pop("items_from")
            spec["items"] = spec["items"] + [
                [{"text": t, "findings": "", "kind": ""}]
                for t in ranked_items(items_spec, views, variables, f"{where}: blocks[{i}]")]
            blocks.append(spec)
            continue
        block = _block(spec, views, registry, variables, f"{where}: blocks[{i}]")
        if block is not None:
            blocks.append(block)
    out = {k: v for k, v in raw.items() if k not in ("kind", "when", "unit")}
    for key in ("id", "label", "title", "key_points_title"):
        if key in out:
            out[key] = str(out[key])
    out["blocks"] = blocks
    return out


def chapter_environment(build):
    """The strict Jinja environment of the chapter sources, knowing every finding's verdicts
    (one per set of findings, so that each chapter is compiled once)."""
    verdicts = possible_verdicts(build.project.findings)
    return _environment(tuple(sorted((fid, tuple(sorted(v))) for fid, v in verdicts.items())))


@cache
def _environment(verdicts: tuple[tuple[str, tuple[str, ...]], ...]):
    return text_environment(_filters(), _globals(), {fid: set(v) for fid, v in verdicts})


def claims_for(build) -> list:
    """The statements of association the text is worded around, tested on this wave's data.

    They are the publication's claims (``data/published/<year>/``). A wave without published
    claims of its own (a later or fictitious wave, real data dropped in) is tested against the
    claims of the year it follows (``targets_from``, then ``predecessor``), so that the same
    sentences are decided by the same tests on the new data."""
    project, meta = build.project, build.wave.meta
    for year in (build.wave.year, meta.get("targets_from"), meta.get("predecessor")):
        if year:
            claims = project.published(int(year)).claims
            if claims:
                return list(claims)
    return []


def build_context(build, *, created: str, build_date: str, code_version: str | None = None,
                  extra: dict[str, Any] | None = None, charts: bool = True) -> dict:
    """The whole report context for one build (see docs/report-context.md). ``charts=False``
    leaves the charts out (an empty SVG): the text and tables alone, for tests of the text."""
    variables = text_variables(build, charts=charts, extra=extra)
    return chapters_context(build, variables, created=created, build_date=build_date,
                            code_version=code_version)


def text_variables(build, *, charts: bool = True, extra: dict[str, Any] | None = None) -> dict:
    """What the chapter sources see (``F``, ``R``, ``W``, ``O``, ``Y``, ``D`` …): everything
    that comes from the data, computed once per build. ``lpj preview`` keeps it while only the
    chapter text changes."""
    from lpj_report.design import design_facts

    project = build.project
    views = build_views(project.figures, build.figures, project.codebook)
    trend = previous_table(build)
    if trend is not None:
        attach(views, *trend)
    results = finding_views(build.findings, project.findings, project.registry, views,
                            project.codebook)
    year_before = trend[0] if trend is not None else ""
    return {"F": views, "R": results, "W": wave_facts(build), "O": words(),
            "Y": {"year": year_before, "changes": significant_changes(views)},
            "D": design_facts(build), "U": {"kommune": False}, "_codebook": project.codebook,
            "_claims": claims_for(build), "_charts": charts, **(extra or {})}


def chapters_context(build, variables: dict[str, Any], *, created: str, build_date: str,
                     code_version: str | None = None, env=None,
                     folder: Path | None = None, sections=None,
                     meta: dict[str, Any] | None = None) -> dict:
    """The report context from the chapter sources of ``folder`` (default ``CHAPTERS_DIR``)
    rendered with ``variables`` (:func:`text_variables`); ``env``: a
    :func:`chapter_environment` to reuse (its compiled sources are kept).

    ``sections`` (an edition's manifest: :class:`lpj_report.edition_names.Selection`s) chooses
    the sources and their ``## `` sections in reading order; without it every source is read
    except those marked ``unit: kommune`` (the editions' own). ``meta`` overrides the title
    page's facts."""
    from lpj_report.wave import sha256

    project = build.project
    env = env or chapter_environment(build)
    parts: dict[str, list[dict]] = {"introduction": [], "chapter": [], "appendix": []}
    for path, headings, intro in places.sources(folder or CHAPTERS_DIR, sections):
        kind = read_source(path).kind
        part = section(path, env, variables, variables["F"], project.registry, headings, intro)
        if part is not None:
            parts[kind].append(part)
    facts = {
        "title": _own("titel"),
        "subtitle": _own("undertitel"),
        "publisher": _own("udgiver"),
        "edition": _own("udgave").format(aar=build.wave.year),
        "status": build.wave.status,
        "created": created,
        "provenance": {
            "data_file": build.wave.responses_path.name,
            "data_sha256": sha256(build.wave.responses_path),
            "codebook_version": project.codebook.version,
            "code_version": code_version or git_version(),
            "build_date": build_date,
        },
        **(meta or {}),
    }
    context = {"meta": facts, "chapters": parts["chapter"], "appendices": parts["appendix"]}
    if parts["introduction"]:
        context["introduction"] = parts["introduction"][0]
    return context


def published_rates_hold(build) -> bool:
    """True when the wave has printed response rates (its published targets on figure
    ``intro.svarprocent``) and every one is reproduced by the data in hand."""
    from lpj_report.verify import check_numbers

    published = build.project.published(int(build.wave.year))
    targets = [t for t in published.numbers if t.figure == "intro.svarprocent"]
    if not targets:
        return False
    subset = type(published)(published.year, targets, [], [])
    return all(c.holds for c in check_numbers(subset, build.figures, set()))


def wave_facts(build) -> dict[str, Any]:
    """Survey facts for the text: sent, returned and rates per role, the municipalities."""
    meta = build.wave.meta
    sent = meta.get("sent") or {}
    codebook = build.project.codebook
    kommune = codebook["kommune"]
    present = [k for k in kommune.keys if (build.data["kommune"] == k).any()]
    floor = build.project.findings.settings.response_rate_floor
    returned = build.data["rolle"].astype("object").value_counts()
    rates = {role: 100 * int(returned.get(role, 0)) / n for role, n in sent.items() if n}
    return {
        "rate_floor": fmt.percent(floor, 0),
        "low_rate_roles": (low := [r for r in codebook["rolle"].keys
                                   if r in rates and rates[r] < floor]),
        "low_rate_text": fmt.join_words([_phrase("rolle_flertal", r, r) for r in low])
        if low else "",
        "published_rates_hold": published_rates_hold(build),
        "year": str(build.wave.year),
        "status": build.wave.status,
        "reconstruction": build.wave.status == "reconstruction",
        "fictitious": build.wave.status == "fictitious",
        "sent_total": fmt.count(sum(sent.values())),
        "sent": {role: fmt.count(n) for role, n in sent.items()},
        "municipalities": [kommune.label_of(k) for k in present],
        "municipality_count": fmt.count(len(present)),
        "fieldwork": str(meta.get("fieldwork", "")),
    }
