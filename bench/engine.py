"""Benchmark: the engine against DuckDB on the same figures, from 1.7k to 1.68M respondents.

    .venv/bin/python bench/engine.py [--sizes 1,10,100,1000] [--repeat 1] [--folder DIR]

Each size is the 2002 responses repeated K times (1.680 × K respondents, new respondent
numbers), written once into a cache folder outside the repository (default: the system's temp
folder, ``lpj-bench/``). For each size two fresh processes run, one after the other:

* **engine**: ``read_and_validate`` (read, check every cell, type) → ``apply_derived`` →
  ``compute_figures`` for every figure in ``data/figures/``;
* **duckdb**: ``read_csv`` with the codebook's column types → the derived variables in SQL
  (from the constants of ``lpj_report.derive``) → one ``GROUP BY GROUPING SETS`` query per
  figure, generated from its declaration (population, filter, breakdown, statistic, combine,
  exclude).

Each process reports its wall time for that work (imports excluded) and its peak resident
memory (``ru_maxrss``, imports included). The two sides' numerators and bases must agree on
every row (means to 1e-9); the benchmark fails if they do not. It prints ratios; it asserts
nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE_ROWS = 1680


# ---------------------------------------------------------------------------- data


def make_file(folder: Path, factor: int) -> Path:
    """The 2002 responses repeated ``factor`` times with fresh respondent numbers (cached)."""
    from lpj_report.wave import load_wave

    source = load_wave(2002).responses_path
    path = folder / f"responses-x{factor}.csv"
    stamp = f"{source.stat().st_size}:{source.stat().st_mtime_ns}:{factor}"
    marker = path.with_suffix(".stamp")
    if path.exists() and marker.exists() and marker.read_text() == stamp:
        return path
    folder.mkdir(parents=True, exist_ok=True)
    lines = source.read_text(encoding="utf-8").splitlines()
    header, body = lines[0], [ln.split(",", 1)[1] for ln in lines[1:] if ln.strip()]
    if not header.startswith("respondent,"):
        raise SystemExit("bench/engine.py expects 'respondent' as the first column")
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as out:
        out.write(header + "\n")
        number = 0
        for _ in range(factor):
            chunk = []
            for rest in body:
                number += 1
                chunk.append(f"{number},{rest}\n")
            out.write("".join(chunk))
    tmp.replace(path)
    marker.write_text(stamp)
    return path


def bench_project():
    """The project, with respondent numbers allowed up to the largest size benchmarked (the
    codebook's range stops at 999.999)."""
    import dataclasses

    from lpj_report.pipeline import Project

    codebook = Project().codebook
    variables = dict(codebook.variables)
    variables["respondent"] = dataclasses.replace(variables["respondent"],
                                                  range=(1.0, 1e12))
    return Project(codebook=dataclasses.replace(codebook, variables=variables))


def wave_meta(factor: int) -> dict:
    """The 2002 wave's metadata with the questionnaires sent scaled like the respondents."""
    from lpj_report.wave import load_wave

    meta = dict(load_wave(2002).meta)
    meta["sent"] = {k: int(v) * factor for k, v in meta["sent"].items()}
    return meta


# ---------------------------------------------------------------------------- engine side


def run_engine(path: Path, factor: int) -> dict:
    import pyarrow.csv  # noqa: F401 — imports before the clock, as on the DuckDB side
    import scipy.special  # noqa: F401

    import lpj_report.load_csv  # noqa: F401
    from lpj_report.derive import apply_derived
    from lpj_report.figures import compute_figures
    from lpj_report.validate import read_and_validate

    project = bench_project()
    figures, populations = project.figures, project.populations
    meta = wave_meta(factor)
    started = time.perf_counter()
    typed = read_and_validate(path, project.codebook)
    data = apply_derived(typed, project.codebook, meta)
    table = compute_figures(data, project.codebook, figures, populations, meta)
    seconds = time.perf_counter() - started
    rows = [[r.figure, r.group, r.category, float(r.numerator), int(r.base)]
            for r in table.itertuples(index=False)]
    return {"seconds": seconds, "respondents": len(data), "rows": rows}


# ---------------------------------------------------------------------------- duckdb side


def _sql_type(var) -> str:
    if var.name == "respondent":
        return "BIGINT"
    if var.kind == "number":
        return "DOUBLE"
    return "TINYINT" if var.kind == "multi" else "SMALLINT"


def _in(column: str, codes: list[int]) -> str:
    return f"{column} IN ({', '.join(map(str, codes))})" if codes else "FALSE"


def _bins_sql(column: str, edges: list[float], codes: list[int]) -> str:
    """``lpj_report.derive._bins``: whole values, first group whose upper limit is reached."""
    parts = [f"WHEN floor({column}) <= {e} THEN {c}" for e, c in zip(edges, codes, strict=False)]
    return f"CASE WHEN {column} IS NULL THEN NULL {' '.join(parts)} ELSE {codes[-1]} END"


def derived_sql(codebook, meta: dict) -> dict[str, str]:
    """Each derived variable as an SQL expression over the codes (codes of the derived
    variable's own codebook entry), mirroring ``lpj_report.derive``."""
    from lpj_report import derive

    def codes(name: str) -> list[int]:
        return [c.code for c in codebook[name].codes]

    def code(name: str, key: str) -> int:
        return codebook[name].code_of(key)

    items = derive.LEARNING_ITEMS
    learned = {i: code(i, derive.LEARNED) for i in items}
    count = " + ".join(f"coalesce(({i} = {learned[i]})::INT, 0)" for i in items)
    all_blank = " AND ".join(f"{i} IS NULL" for i in items)
    out = {"laering_antal": f"CASE WHEN {all_blank} THEN NULL ELSE {count} END"}
    out["laering"] = _bins_sql("laering_antal", [2, 5], codes("laering"))
    out["laering_alt"] = _bins_sql("laering_antal", [3, 5], codes("laering_alt"))
    area = " ".join(f"WHEN {code('arbejdssted', k)} THEN {code('omraade', v)}"
                    for k, v in derive.AREA_OF_WORKPLACE.items())
    out["omraade"] = f"CASE arbejdssted {area} ELSE NULL END"
    out["aldersgruppe"] = _bins_sql("alder", [29, 39, 49], codes("aldersgruppe"))
    for name, column in (("stilling_gruppe", "aar_stilling"),
                         ("arbejdsplads_gruppe", "aar_arbejdsplads"),
                         ("kommune_gruppe", "aar_kommune")):
        out[name] = _bins_sql(column, derive.TENURE_EDGES, codes(name))
    sizes = " ".join(f"WHEN {code('kommune', k)} THEN {code('kommunestoerrelse', v)}"
                     for k, v in (meta.get("municipalities") or {}).items())
    out["kommunestoerrelse"] = f"CASE kommune {sizes} ELSE NULL END"

    def points(column: str) -> str:
        cases = " ".join(f"WHEN {code(column, k)} THEN {p}"
                         for k, p in derive.AGREEMENT_POINTS.items())
        return f"(CASE {column} {cases} ELSE NULL END)"

    total = (f"{points('holdning_uden_for_omraade')} + {points('holdning_ikke_rustet')} "
             f"+ 3 - {points('holdning_stabilitet')}")
    out["livsform"] = (f"CASE WHEN ({total}) IS NULL THEN NULL WHEN ({total}) >= 5 "
                       f"THEN {code('livsform', 'karriere')} "
                       f"ELSE {code('livsform', 'loenmodtager')} END")
    missing = {v.name for v in codebook.derived} - set(out)
    if missing:
        raise SystemExit(f"bench/engine.py: no SQL for derived {sorted(missing)}")
    return out


def figure_sql(fig, codebook, populations) -> str:
    """One query per figure: its counts (or sums) per breakdown group and for everyone."""
    from lpj_report.figures import category_keys

    cond = ["TRUE"]
    for name, keys in (*populations[fig.population].items(), *fig.filter.items()):
        cond.append(_in(name, [codebook[name].code_of(k) for k in keys]))
    where = " AND ".join(cond)
    b = fig.breakdown or "NULL"
    sets = f"GROUPING SETS (({b}), ())" if fig.breakdown else "GROUPING SETS (())"
    head = (f"SELECT {'grouping(' + b + ')' if fig.breakdown else '1'} AS is_all, "
            f"{b} AS grp")
    var = codebook[fig.variable]
    if fig.statistic == "share":
        exclude = [var.code_of(k) for k in fig.exclude]
        valid = f"{fig.variable} IS NOT NULL" + (
            f" AND NOT {_in(fig.variable, exclude)}" if exclude else "")
        sums = []
        for key in category_keys(fig, codebook):
            keys = [k for k in fig.combine.get(key, (key,)) if k in var.keys]
            sums.append(f"sum(({_in(fig.variable, [var.code_of(k) for k in keys])})::INT)")
        return (f"{head}, count(*) AS base, {', '.join(sums)} FROM d WHERE {where} "
                f"AND {valid} GROUP BY {sets}")
    if fig.statistic == "multi_share":
        column = {c.key: col for c, col in zip(var.codes, var.columns, strict=True)}
        any_tick = " OR ".join(f"{c} = 1" for c in var.columns)
        sums = []
        for key in category_keys(fig, codebook):
            picked = " OR ".join(f"{column[k]} = 1" for k in fig.combine.get(key, (key,)))
            sums.append(f"sum(coalesce(({picked})::INT, 0))")
        return (f"{head}, count(*) AS base, {', '.join(sums)} FROM d WHERE {where} "
                f"AND ({any_tick}) GROUP BY {sets}")
    if fig.statistic == "mean":
        return (f"{head}, count({fig.variable}) AS base, sum({fig.variable}) FROM d "
                f"WHERE {where} AND {fig.variable} IS NOT NULL GROUP BY {sets}")
    return f"{head}, count(*) AS base FROM d WHERE {where} GROUP BY {sets}"


def run_duckdb(path: Path, factor: int) -> dict:
    import duckdb

    from lpj_report.figures import ALL, category_keys, group_keys

    project = bench_project()
    codebook, populations = project.codebook, project.populations
    meta = wave_meta(factor)
    # the file's columns (an optional question, such as the cluster id, may be absent)
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split(",")
    types_of = {c: _sql_type(v) for v in codebook.questions for c in v.columns}
    columns = {c: types_of[c] for c in header}
    types = "{" + ", ".join(f"'{c}': '{t}'" for c, t in columns.items()) + "}"
    derived = derived_sql(codebook, meta)
    queries = [(fig, figure_sql(fig, codebook, populations)) for fig in project.figures]
    started = time.perf_counter()
    con = duckdb.connect()
    # derived variables in one pass; later ones use earlier ones (as in derive.py), which
    # DuckDB allows by referring to a column alias defined earlier in the same SELECT
    select = ", ".join(f"({expr}) AS {name}" for name, expr in derived.items())
    con.execute(f"CREATE TABLE d AS SELECT *, {select} FROM read_csv('{path}', header = true, "
                f"columns = {types})")
    results = [(fig, con.execute(sql).fetchall()) for fig, sql in queries]
    respondents = con.execute("SELECT count(*) FROM d").fetchone()[0]
    seconds = time.perf_counter() - started
    rows = []
    sent = meta["sent"]
    for fig, result in results:
        groups = group_keys(fig, codebook)
        keys = codebook[fig.breakdown] if fig.breakdown else None
        by_group = {}
        for rec in result:
            is_all, grp = rec[0], rec[1]
            if fig.breakdown and not is_all and grp is None:
                continue  # respondents without a breakdown value count in `alle` only
            label = ALL if (not fig.breakdown or is_all) else keys.key_of(int(grp))
            by_group[label] = rec[2:]
        for g in groups:
            rec = by_group.get(g)
            base = int(rec[0]) if rec else 0
            if fig.statistic in ("share", "multi_share"):
                for key, num in zip(category_keys(fig, codebook), rec[1:] if rec else
                                    [0] * 99, strict=False):
                    rows.append([fig.id, g, key, float(num or 0), base])
            elif fig.statistic == "mean":
                rows.append([fig.id, g, "mean", float(rec[1]) if rec and rec[1] else 0.0,
                             base])
            elif fig.statistic == "count":
                rows.append([fig.id, g, "n", float(base), base])
            else:
                rate_base = sum(sent.values()) if g == ALL else int(sent.get(g, 0))
                rows.append([fig.id, g, "n", float(base), rate_base])
    return {"seconds": seconds, "respondents": int(respondents), "rows": rows}


# ---------------------------------------------------------------------------- driver


def _child(side: str, path: Path, factor: int) -> dict:
    """Run one side in a fresh process; its result with its peak memory."""
    cmd = [sys.executable, __file__, "--side", side, "--csv", str(path),
           "--factor", str(factor)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout)


def compare(engine: dict, duck: dict) -> list[str]:
    """Rows on which the two sides disagree (numerator or base)."""
    theirs = {tuple(r[:3]): r[3:] for r in duck["rows"]}
    bad = []
    for fig, group, cat, num, base in engine["rows"]:
        other = theirs.get((fig, group, cat))
        if other is None:
            bad.append(f"{fig}/{group}/{cat}: not computed by duckdb")
            continue
        onum, obase = other
        if base != obase or abs(num - onum) > 1e-9 * max(1.0, abs(num)):
            bad.append(f"{fig}/{group}/{cat}: engine {num}/{base}, duckdb {onum}/{obase}")
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,100,1000",
                        help="repetitions of the 2002 respondents (default 1,10,100,1000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side (median)")
    parser.add_argument("--folder", type=Path,
                        default=Path(tempfile.gettempdir()) / "lpj-bench",
                        help="where the big files are cached")
    parser.add_argument("--side", choices=["engine", "duckdb"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--factor", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        result = (run_engine if args.side == "engine" else run_duckdb)(args.csv, args.factor)
        result["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return 0
    try:
        import duckdb
    except ImportError:
        print("duckdb is not installed: pip install -c constraints.txt -e '.[bench]' "
              "(make bench does)")
        return 1
    print(f"engine vs duckdb {duckdb.__version__}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}; times exclude imports, memory is peak RSS")
    print(f"{'respondents':>12} {'engine s':>9} {'duckdb s':>9} {'time ×':>7} "
          f"{'engine MiB':>11} {'duckdb MiB':>11} {'memory ×':>9}  agree")
    failed = False
    for factor in [int(s) for s in args.sizes.split(",")]:
        path = make_file(args.folder, factor)
        runs: dict[str, list[dict]] = {"engine": [], "duckdb": []}
        for _ in range(args.repeat):
            for side in ("engine", "duckdb"):
                runs[side].append(_child(side, path, factor))
        errors = [r["error"] for rs in runs.values() for r in rs if "error" in r]
        n = BASE_ROWS * factor
        if errors:
            print(f"{n:>12,} failed: {errors[0]}")
            failed = True
            continue
        e_s = statistics.median(r["seconds"] for r in runs["engine"])
        d_s = statistics.median(r["seconds"] for r in runs["duckdb"])
        e_m = max(r["maxrss_mib"] for r in runs["engine"])
        d_m = max(r["maxrss_mib"] for r in runs["duckdb"])
        bad = compare(runs["engine"][0], runs["duckdb"][0])
        agree = "yes" if not bad else f"NO: {len(bad)} rows, e.g. {bad[0]}"
        failed |= bool(bad)
        print(f"{n:>12,} {e_s:>9.2f} {d_s:>9.2f} {e_s / d_s:>7.2f} {e_m:>11.0f} "
              f"{d_m:>11.0f} {e_m / d_m:>9.2f}  {agree} ({len(runs['engine'][0]['rows'])} rows)",
              flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
