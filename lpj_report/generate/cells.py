"""Helpers of :class:`~lpj_report.generate.build.Builder` that shape a step's cells.

Layer: generate (may import base … findings, and its own layer).

* answers consistent with a derived variable generated before its inputs (``livsform``:
  :meth:`CellRules._consistent`), including who leaves which input blank;
* group sizes that later printed percentages need (:meth:`CellRules._lookahead`).
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd

from lpj_report.derive import DERIVATIONS
from lpj_report.figures import ALL, category_keys
from lpj_report.generate.model import MISSING, Step
from lpj_report.targets import NumberTarget


class CellRules:
    """Mixed into the builder (uses its codebook, steps, figures and published targets)."""

    def _consistent(self, step: Step, cur: pd.DataFrame, allowed_id: np.ndarray) -> np.ndarray:
        """Restrict answers so that a variable derived from several questions, generated
        before them (e.g. ``livsform``), comes out as generated once all its inputs exist."""
        counts = {s.extra.get("count") for s in self.steps if s.kind == "learning_items"}
        out = allowed_id.copy()
        for derived in self.cb.derived:
            if (step.name not in derived.inputs or derived.name not in self.done
                    or len(derived.inputs) < 2 or derived.name in counts):
                continue
            done = [i for i in derived.inputs if i in self.done]
            todo = [i for i in derived.inputs if i not in self.done and i != step.name]
            keys = [derived.name, *done]
            frame = cur[keys].astype("object")
            if MISSING in step.domain:
                # generated as missing: each such respondent leaves one or more of its
                # questions blank (a pattern drawn once) and answers the others
                pattern = self._blank_pattern(derived, cur)
                col = pattern[:, list(derived.inputs).index(step.name)]
                d_step = self.steps[self.step_names.index(derived.name)]
                absent = (frame[derived.name].isna() & cur["rolle"].isin(d_step.asked)).to_numpy()
                out[absent & col] = MISSING
                out[absent & ~col] = "|".join(str(v) for v in step.domain if v != MISSING)
            cache: dict[tuple, str] = {}
            for i in np.flatnonzero(frame[derived.name].notna().to_numpy()):
                key = tuple(frame.iloc[i])
                if key not in cache:
                    cache[key] = self._completions(derived, step, dict(zip(keys, key, strict=True)),
                                                   todo)
                ok = cache[key]
                if out[i] != "all":
                    ok = "|".join(v for v in ok.split("|") if v in out[i].split("|"))
                out[i] = ok
        return out

    def _blank_pattern(self, derived, cur: pd.DataFrame) -> np.ndarray:
        """Which inputs of ``derived`` each respondent leaves blank when ``derived`` was
        generated as missing: each input blank with probability ½, at least one."""
        if derived.name not in self.patterns:
            rng = self._rng(derived.name, "blanks")
            k = len(derived.inputs)
            pattern = rng.random((len(cur), k)) < 0.5
            none = ~pattern.any(axis=1)
            pattern[none, rng.integers(0, k, size=int(none.sum()))] = True
            self.patterns[derived.name] = pattern
        return self.patterns[derived.name]

    def _completions(self, derived, step: Step, fixed: dict, todo: list[str]) -> str:
        """Values of ``step`` for which some answers to ``todo`` give ``fixed[derived]``."""
        values = [v for v in step.domain if v != MISSING]
        combos = list(product(values, *[self.cb[t].keys for t in todo]))
        frame = pd.DataFrame(combos, columns=[step.name, *todo], dtype="object")
        for name, value in fixed.items():
            if name != derived.name:
                frame[name] = value
        result = DERIVATIONS[derived.name](frame, self.wave).astype("object")
        good = frame.loc[result.to_numpy() == fixed[derived.name], step.name]
        return "|".join(str(v) for v in values if v in set(good))

    def _lookahead(self, step: Step) -> list[tuple[list, str, str, list[NumberTarget]]]:
        """Later targets whose base is a group of this variable: their printed percentages
        restrict the group's size (with 17 respondents, 61 % cannot be printed)."""
        if step.kind == "multi":
            return []
        idx = self.step_names.index(step.name)
        groups: dict[tuple, list[NumberTarget]] = {}
        for t in self.published.numbers:
            fig = self.figures.get(t.figure)
            if (fig is None or not t.adopt or t.group == ALL or fig.exclude
                    or any(v != fig.breakdown or t.group not in keys
                           for v, keys in fig.filter.items())
                    or fig.statistic not in ("share", "multi_share") or t.field != "value"
                    or not fig.breakdown or self.unit(fig.breakdown) != step.name
                    or self.order(fig.variable) <= idx
                    or any(self.order(v) >= idx for v in self.populations[fig.population])):
                continue
            key = (fig.population, fig.breakdown, t.group)
            groups.setdefault(key, []).append(t)
        out = []
        for (pop, breakdown, group), targets in sorted(groups.items()):
            terms = [self.term(v, keys) for v, keys in self.populations[pop].items()]
            out.append((terms, breakdown, group, targets))
        return out

    def _partitions(self, targets: list[NumberTarget]) -> list[list[NumberTarget]]:
        """Targets that print every category of one figure's group (they sum to its base)."""
        by_fig: dict[str, list[NumberTarget]] = {}
        for t in targets:
            if t.bounds is None:
                by_fig.setdefault(t.figure, []).append(t)
        out = []
        for fid, ts in by_fig.items():
            fig = self.figures[fid]
            plain = {k for k in category_keys(fig, self.cb) if k not in fig.combine}
            if fig.statistic == "share" and {t.category for t in ts} == plain:
                out.append(ts)
        return out
