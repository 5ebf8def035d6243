"""``lpj completion bash|zsh``: a shell completion script, made from the command's own parser.

Layer: cli.

The script completes the commands, each command's options, and the values the project knows:
survey years (``data/waves``), municipality keys (the codebook's ``kommune``), formats and the
edit-rule severities; file names elsewhere. It is static text: every word in it is checked to
be a plain word (letters, digits, ``._,-``), so nothing from a data file can become shell code.

    source <(lpj completion bash)          # this shell
    lpj completion bash > ~/.local/share/bash-completion/completions/lpj
    lpj completion zsh > "${fpath[1]}/_lpj"   # zsh (through bashcompinit)
"""

from __future__ import annotations

import argparse
import re
from itertools import combinations

SHELLS = ("bash", "zsh")
_WORD = re.compile(r"^[A-Za-z0-9_.,:+-]+$")
#: Options whose value is a file or folder.
PATH_OPTIONS = ("--out", "--responses")


def _words(items) -> str:
    """Space-separated plain words; anything else is left out (never quoted into code)."""
    return " ".join(w for w in dict.fromkeys(str(i) for i in items) if _WORD.match(w))


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [s for a in parser._actions for s in a.option_strings if s.startswith("--")]


def known_values() -> dict[str, list[str]]:
    """Values offered after an option: ``--wave``, ``--kommune``, ``--formats``."""
    from lpj_report.codebook import default_codebook
    from lpj_report.paths import WAVES_DIR
    from lpj_report.publish import FORMATS

    years = sorted(p.name for p in WAVES_DIR.iterdir() if (p / "wave.yaml").is_file())
    formats = [",".join(c) for k in range(1, len(FORMATS) + 1)
               for c in combinations(FORMATS, k)]
    return {"--wave": years, "--kommune": list(default_codebook()["kommune"].keys),
            "--formats": formats}


def bash_script(parser: argparse.ArgumentParser, values: dict[str, list[str]] | None = None
                ) -> str:
    values = known_values() if values is None else values
    commands = _subcommands(parser)
    top = [*commands, *_options(parser), "-h"]
    lines = [
        "# bash completion for lpj (made by `lpj completion bash`; load with",
        "#   source <(lpj completion bash)",
        "# or save it as ~/.local/share/bash-completion/completions/lpj)",
        "_lpj() {",
        "    local cur prev cmd opts words",
        "    COMPREPLY=()",
        '    cur="${COMP_WORDS[COMP_CWORD]}"',
        '    prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    cmd="${COMP_WORDS[1]}"',
        "    if [[ $COMP_CWORD -eq 1 ]]; then",
        f'        COMPREPLY=( $(compgen -W "{_words(top)}" -- "$cur") )',
        "        return 0",
        "    fi",
        '    case "$prev" in',
    ]
    choices: dict[str, list[str]] = dict(values)
    for sub in commands.values():
        for action in sub._actions:
            if action.choices and action.option_strings:
                for option in action.option_strings:
                    choices.setdefault(option, [str(c) for c in action.choices])
    for option, words in sorted(choices.items()):
        lines.append(f'        {option}) COMPREPLY=( $(compgen -W "{_words(words)}" -- "$cur") );'
                     " return 0 ;;")
    lines.append(f'        {"|".join(PATH_OPTIONS)}) COMPREPLY=( $(compgen -f -- "$cur") );'
                 " return 0 ;;")
    lines += ["    esac", '    case "$cmd" in']
    for name, sub in commands.items():
        words = _options(sub) + ["-h"]
        positional = [a for a in sub._actions if not a.option_strings and a.choices]
        extra = [str(c) for a in positional for c in a.choices]
        if name == "diff":
            extra += values.get("--wave", [])
        lines.append(f'        {name}) opts="{_words(words)}"; words="{_words(extra)}" ;;')
    lines += [
        '        *) opts=""; words="" ;;',
        "    esac",
        '    if [[ "$cur" == -* ]]; then',
        '        COMPREPLY=( $(compgen -W "$opts" -- "$cur") )',
        "    else",
        '        COMPREPLY=( $(compgen -W "$words" -- "$cur") $(compgen -f -- "$cur") )',
        "    fi",
        "    return 0",
        "}",
        "complete -o filenames -F _lpj lpj",
        "",
    ]
    return "\n".join(lines)


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script for ``shell`` (``bash``; ``zsh`` runs the same through
    bashcompinit)."""
    text = bash_script(parser)
    if shell == "zsh":
        return ("#compdef lpj\n# zsh completion for lpj (made by `lpj completion zsh`)\n"
                "autoload -U +X bashcompinit && bashcompinit\n" + text)
    return text
