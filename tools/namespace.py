"""Install tierwise's packages under one ``tierwise.`` namespace, folders unchanged.

Why: the distribution used to install top-level packages called ``config``, ``sync``,
``sandbox``, ``connectors`` and ``tiering``; any other distribution with one of those
common names would shadow or be shadowed by ours (issue 14). This codemod makes the
installed names ``tierwise.sync``, ``tierwise.config``, ... while the source folders
stay at the top of the repository (setuptools ``package-dir`` maps one onto the other):

- ``pyproject.toml``: ``package-dir`` + an explicit ``packages`` list (``packages.find``
  cannot rename), ``package-data`` keys, the console script, mypy's package list read
  through ``tools/typecheck/tierwise/<folder>`` symlinks (mypy cannot follow the
  editable install's import hook), and ruff's isort ``known-first-party`` (no
  ``tierwise/`` folder exists for ruff to see);
- every ``.py`` file of the project: ``from sync... import`` / ``import sync...``
  statements, dotted strings that name one of our modules (``mock.patch`` targets,
  entry points, ``importlib`` names) and ``python -m sync`` invocations;
- ``Dockerfile``, ``Makefile``, ``.ci/run``, ``deploy/**``: ``python -m sync`` style
  invocations. README commands (``tierwise ...``, ``python -m pytest``) do not change.

It is idempotent (a name already under ``tierwise.`` is left alone) and prints what it
changed. Afterwards it re-sorts imports with ``ruff check --select I --fix`` when ruff
is installed (``tests`` now sorts before ``tierwise``) and lists lines the longer names
pushed over the length limit. Usage, from the repository root::

    python tools/namespace.py            # rewrite in place
    python tools/namespace.py --check    # exit 1 if anything would change (CI/merge check)
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import shutil
import subprocess
import sys
import tokenize
from collections.abc import Iterable
from pathlib import Path

NAMESPACE = "tierwise"
TOP_LEVEL = ("config", "connectors", "sandbox", "sync", "tiering")
PY_ROOTS = (*TOP_LEVEL, "tests", "bench", "tools")
TEXT_FILES = ("Dockerfile", "Makefile", ".ci/run")
TEXT_DIRS = ("deploy",)
LINK_TREE = "tools/typecheck"  # tools/typecheck/tierwise/<folder> -> ../../../<folder>
SKIP_MARK = "namespace-codemod: skip"  # in a file's first lines: leave the file alone
SKIP_PARTS = {"__pycache__", ".git", ".venv", "venv", "build", "dist", ".mypy_cache"}
_TOP = "|".join(TOP_LEVEL)
# `-m sync` (python -m) in any text; not `-m sync.x` already handled by the dotted rule.
_DASH_M = re.compile(rf"(?<=-m )({_TOP})\b(?![.\w/-])")
# A dotted reference: `sync.cli`, `sync.cli:main`, `connectors.retry.sleep`, ...
_DOTTED = re.compile(rf"(?<![\w./\\-])({_TOP})((?:\.[A-Za-z_]\w*)+)")


class CodemodError(Exception):
    """A statement the codemod cannot rewrite safely; a person must edit it first."""


def is_module(root: Path, top: str, rest: str) -> bool:
    """True when ``top.rest...`` names a module or package of ours (first segment
    checked), so prose such as ``config.yaml`` or ``sync.state of affairs`` is kept."""
    first = rest.lstrip(".").split(".")[0]
    folder = root / top
    return (folder / f"{first}.py").is_file() or (folder / first / "__init__.py").is_file()


def rewrite_text(text: str, root: Path) -> str:
    """Dotted references to our modules and ``-m <package>`` in free text."""

    def dotted(match: re.Match[str]) -> str:
        top, rest = match.group(1), match.group(2)
        if not is_module(root, top, rest):
            return match.group(0)
        return f"{NAMESPACE}.{top}{rest}"

    return _DASH_M.sub(rf"{NAMESPACE}.\1", _DOTTED.sub(dotted, text))


def _import_edits(source: str, path: Path) -> dict[tuple[int, int], str]:
    """(line, column) of each import's first module-name token -> its replacement."""
    edits: dict[tuple[int, int], str] = {}
    tree = ast.parse(source, filename=str(path))
    lines = source.splitlines(keepends=True)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] not in TOP_LEVEL:
                continue
            line = lines[node.lineno - 1]
            # The module name is the first word after `from`.
            match = re.compile(r"from\s+").match(line, node.col_offset)
            if match is None:
                raise CodemodError(f"{path}:{node.lineno}: cannot find the module name")
            edits[(node.lineno, match.end())] = f"{NAMESPACE}."
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in TOP_LEVEL:
                    continue
                if alias.asname is None:
                    # `import sync.cli` binds `sync`; every `sync.cli.x` use would need
                    # rewriting too. Rare enough to ask for a `from` import instead.
                    raise CodemodError(
                        f"{path}:{node.lineno}: `import {alias.name}` binds the bare name; "
                        f"write `from ... import ...` or `import {alias.name} as name` first"
                    )
            line = lines[node.lineno - 1]
            for alias in node.names:
                if alias.name.split(".")[0] in TOP_LEVEL:
                    found = re.compile(rf"\b{re.escape(alias.name)}\b").search(
                        line, node.col_offset
                    )
                    if found is None:
                        raise CodemodError(f"{path}:{node.lineno}: put the import on one line")
                    edits[(node.lineno, found.start())] = f"{NAMESPACE}."
    return edits


def _string_edits(source: str, root: Path) -> dict[tuple[int, int], tuple[int, str]]:
    """String tokens to rewrite: (line, col) -> (end col, new token text). Covers
    dotted module strings and the ``"-m", "sync"`` argument-list form."""
    edits: dict[tuple[int, int], tuple[int, str]] = {}
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type not in (tokenize.NL, tokenize.COMMENT)
    ]
    for index, token in enumerate(tokens):
        if token.type != tokenize.STRING or token.start[0] != token.end[0]:
            continue  # multi-line strings: _rewrite_docstrings
        new = rewrite_text(token.string, root)
        previous = tokens[index - 2] if index >= 2 else None
        bare = re.fullmatch(rf"([rbuRBU]*)(['\"])({_TOP})\2", token.string)
        if (
            bare
            and previous is not None
            and previous.type == tokenize.STRING
            and previous.string[1:-1] == "-m"
            and tokens[index - 1].string == ","
        ):
            new = f"{bare.group(1)}{bare.group(2)}{NAMESPACE}.{bare.group(3)}{bare.group(2)}"
        if new != token.string:
            edits[token.start] = (token.end[1], new)
    return edits


def rewrite_python(source: str, path: Path, root: Path) -> str:
    """One file's imports, dotted module strings and ``-m`` arguments under the namespace.

    Multi-line strings (docstrings) are rewritten as text, line by line, outside the
    token pass: they are prose that names modules.
    """
    imports = _import_edits(source, path)
    strings = _string_edits(source, root)
    lines = source.splitlines(keepends=True)
    by_line: dict[int, list[tuple[int, int, str]]] = {}
    for (line, col), prefix in imports.items():
        by_line.setdefault(line, []).append((col, col, prefix))
    for (line, col), (end, text) in strings.items():
        by_line.setdefault(line, []).append((col, end, text))
    for line, changes in by_line.items():
        text = lines[line - 1]
        for start, end, new in sorted(changes, reverse=True):
            text = text[:start] + new + text[end:]
        lines[line - 1] = text
    rewritten = "".join(lines)
    return _rewrite_docstrings(rewritten, root)


def _rewrite_docstrings(source: str, root: Path) -> str:
    """Multi-line string tokens (docstrings, help texts) get the free-text rewrite."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    out = source
    for token in reversed(tokens):
        if token.type != tokenize.STRING or token.start[0] == token.end[0]:
            continue
        start = offsets[token.start[0] - 1] + token.start[1]
        end = offsets[token.end[0] - 1] + token.end[1]
        out = out[:start] + rewrite_text(out[start:end], root) + out[end:]
    return out


DOCKER_DROP = (
    "# The image carries no emulator (no COPY sandbox): take it out of the explicit\n"
    "# package list too, or setuptools stops on the missing folder (tools/namespace.py).\n"
    f"RUN sed -i '/^    \"{NAMESPACE}\\.sandbox[.\"]/d' pyproject.toml\n"
)


def rewrite_dockerfile(text: str) -> str:
    """Before the image's install: drop ``tierwise.sandbox*`` from the package list."""
    if DOCKER_DROP in text or re.search(r"^COPY\s+sandbox", text, flags=re.MULTILINE):
        return text
    anchor = re.search(r"^RUN python -m venv", text, flags=re.MULTILINE)
    if anchor is None:
        raise CodemodError("Dockerfile: no `RUN python -m venv` line to put the drop before")
    return text[: anchor.start()] + DOCKER_DROP + text[anchor.start() :]


def packages(root: Path) -> list[str]:
    """Every package folder under our top-level folders, as installed names."""
    found: list[str] = []
    for top in TOP_LEVEL:
        for init in sorted((root / top).rglob("__init__.py")):
            rel = init.parent.relative_to(root)
            if SKIP_PARTS.intersection(rel.parts):
                continue
            found.append(".".join((NAMESPACE, *rel.parts)))
    return sorted(found)


def rewrite_pyproject(text: str, root: Path) -> str:
    """package-dir + packages, package-data keys, scripts, mypy, ruff isort."""
    pkgs = packages(root)
    package_dir = ", ".join(f'"{NAMESPACE}.{top}" = "{top}"' for top in TOP_LEVEL)
    listed = "".join(f'    "{name}",\n' for name in pkgs)
    block = (
        "[tool.setuptools]\n"
        "# Installed as tierwise.<folder>; the folders stay at the top (tools/namespace.py\n"
        "# writes this block: rerun it after adding a package folder).\n"
        f"package-dir = {{ {package_dir} }}\n"
        f"packages = [\n{listed}]\n"
    )
    generated = re.compile(r"\[tool\.setuptools\]\n# Installed as tierwise\..*?\n\]\n", re.S)
    found = re.compile(r"\[tool\.setuptools\.packages\.find\]\n(?:[^\[\n][^\n]*\n)*")
    if generated.search(text):
        text = generated.sub(lambda _: block, text, count=1)
    elif found.search(text):
        text = found.sub(lambda _: block, text, count=1)
    else:
        raise CodemodError("pyproject.toml: no [tool.setuptools.packages.find] table to replace")
    data = re.compile(r"(\[tool\.setuptools\.package-data\]\n)((?:[^\[\n][^\n]*\n)*)")

    def keys(match: re.Match[str]) -> str:
        body = re.sub(
            rf"^({_TOP})(\s*=)", rf'"{NAMESPACE}.\1"\2', match.group(2), flags=re.MULTILINE
        )
        return match.group(1) + body

    text = data.sub(keys, text)
    # mypy cannot follow setuptools' editable import hook, so it reads the packages
    # through a tree of symlinks named like the installed packages (link_tree()).
    text = text.replace(f'mypy_path = "$MYPY_CONFIG_FILE_DIR/{LINK_TREE}"\n', "")
    text = re.sub(
        r"^(\[tool\.mypy\]\n(?:[^\[\n][^\n]*\n)*?)packages = \[[^\]]*\]",
        rf'\1mypy_path = "$MYPY_CONFIG_FILE_DIR/{LINK_TREE}"\npackages = ["{NAMESPACE}"]',
        text,
        flags=re.MULTILINE,
    )
    if "known-first-party" not in text:
        text = text.replace(
            "[tool.ruff.lint.per-file-ignores]",
            "[tool.ruff.lint.isort]\n"
            f'known-first-party = ["{NAMESPACE}", "tests"]  # no {NAMESPACE}/ folder to detect\n'
            "\n[tool.ruff.lint.per-file-ignores]",
            1,
        )
    return re.sub(r'"([^"\n]*)"', lambda m: rewrite_text(m.group(0), root), text)


def link_tree(root: Path) -> list[Path]:
    """``tools/typecheck/tierwise/<folder>`` symlinks: mypy's view of the installed names
    (relative links, committed; git keeps them as links)."""
    made: list[Path] = []
    base = root / LINK_TREE / NAMESPACE
    base.mkdir(parents=True, exist_ok=True)
    for top in TOP_LEVEL:
        link = base / top
        target = Path("../../..") / top
        if link.is_symlink() and Path(link.readlink()) == target:
            continue
        if link.exists() or link.is_symlink():
            raise CodemodError(f"{link.relative_to(root)} exists and is not the expected link")
        link.symlink_to(target, target_is_directory=True)
        made.append(link)
    return made


def python_files(root: Path) -> Iterable[Path]:
    for name in PY_ROOTS:
        folder = root / name
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            if not SKIP_PARTS.intersection(path.relative_to(root).parts):
                yield path


def text_files(root: Path) -> Iterable[Path]:
    for name in TEXT_FILES:
        if (root / name).is_file():
            yield root / name
    for name in TEXT_DIRS:
        if (root / name).is_dir():
            yield from sorted(p for p in (root / name).rglob("*") if p.is_file())


def plan(root: Path) -> dict[Path, str]:
    """Every file whose content changes, with its new content (nothing written)."""
    changed: dict[Path, str] = {}
    here = Path(__file__).resolve()
    for path in python_files(root):
        old = path.read_text(encoding="utf-8")
        if path.resolve() == here or SKIP_MARK in "".join(old.splitlines(keepends=True)[:5]):
            continue  # this file and its test spell the old names on purpose
        new = rewrite_python(old, path.relative_to(root), root)
        if new != old:
            changed[path] = new
    for path in text_files(root):
        old = path.read_text(encoding="utf-8")
        new = rewrite_text(old, root)
        if path.name == "Dockerfile":
            new = rewrite_dockerfile(new)
        if new != old:
            changed[path] = new
    pyproject = root / "pyproject.toml"
    old = pyproject.read_text(encoding="utf-8")
    new = rewrite_pyproject(old, root)
    if new != old:
        changed[pyproject] = new
    return changed


def sort_imports(root: Path, files: list[Path]) -> None:
    """Re-sort the changed files' imports (`tests` now sorts before `tierwise`)."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    py = [str(p) for p in files if p.suffix == ".py"]
    if not py:
        return
    if not Path(ruff).exists():
        print("ruff not found: run `ruff check --select I --fix .` yourself")
        return
    subprocess.run(  # noqa: S603 - our own ruff, our own file list
        [ruff, "check", "--select", "I", "--fix", "--quiet", *py], cwd=root, check=False
    )


def long_lines(root: Path, files: list[Path]) -> None:
    """Lines the longer names pushed past the line length: listed for a hand edit."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    py = [str(p) for p in files if p.suffix == ".py"]
    if not py or not Path(ruff).exists():
        return
    found = subprocess.run(  # noqa: S603 - our own ruff, our own file list
        [ruff, "check", "--select", "E501", "--output-format", "concise", "--quiet", *py],
        cwd=root,
        check=False,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if found:
        print("lines now over the length limit (shorten by hand):\n" + found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if needed")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    try:
        changed = plan(root)
    except (CodemodError, SyntaxError) as exc:
        print(f"namespace codemod: {exc}", file=sys.stderr)
        return 2
    for path in changed:
        print(("would rewrite " if args.check else "rewrote ") + str(path.relative_to(root)))
    if args.check:
        missing = not all((root / LINK_TREE / NAMESPACE / top).is_symlink() for top in TOP_LEVEL)
        if missing:
            print(f"would link {LINK_TREE}/{NAMESPACE}/<folder> for mypy")
        return 1 if changed or missing else 0
    for path, text in changed.items():
        path.write_text(text, encoding="utf-8")
    try:
        links = link_tree(root)
    except CodemodError as exc:
        print(f"namespace codemod: {exc}", file=sys.stderr)
        return 2
    for link in links:
        print(f"linked {link.relative_to(root)} -> {link.readlink()}")
    sort_imports(root, list(changed))
    long_lines(root, list(changed))
    done = len(changed) + len(links)
    print(f"{len(changed)} files rewritten" if done else "already namespaced: nothing to do")
    return 0


if __name__ == "__main__":
    sys.exit(main())
