"""Write the Jupyter Book configuration of the student edition: `_config.yml` with the overlay
`_config_student.yml` merged in.

    python tools/student_config.py OUT [--base _config.yml] [--overlay _config_student.yml]
        [--cache DIR]

`jupyter-book build --config FILE` reads one whole file instead of `_config.yml`, so the overlay
is merged into a copy (mappings key by key, anything else replaced by the overlay's value). Jupyter
Book reads `sphinx.local_extensions` paths relative to the configuration file: they are made
absolute, so OUT can live in the build folder. `make student` runs this; `make test` gives
``--cache`` the test build's execution cache, so that its student edition renders the notebooks
that nbval has just run instead of running them again.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def merge(base: dict, overlay: dict) -> dict:
    """``base`` updated by ``overlay``: nested mappings merged, other values replaced."""
    result = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def student_config(base: Path, overlay: Path) -> dict:
    """The merged configuration, its local extension paths absolute."""
    config = merge(yaml.safe_load(base.read_text(encoding="utf-8")) or {},
                   yaml.safe_load(overlay.read_text(encoding="utf-8")) or {})
    extensions = (config.get("sphinx") or {}).get("local_extensions") or {}
    for name, path in extensions.items():
        extensions[name] = str((base.parent / path).resolve())
    return config


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the merged configuration")
    parser.add_argument("--base", type=Path, default=ROOT / "_config.yml")
    parser.add_argument("--overlay", type=Path, default=ROOT / "_config_student.yml")
    parser.add_argument("--cache", type=Path, default=None,
                        help="the execution cache to render from (execute.cache)")
    args = parser.parse_args(argv)
    config = student_config(args.base, args.overlay)
    if args.cache is not None:
        config.setdefault("execute", {})["cache"] = str(args.cache.resolve())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# Written by tools/student_config.py from {args.base.name} and "
              f"{args.overlay.name}: edit those, not this.\n")
    args.out.write_text(header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                        encoding="utf-8")


if __name__ == "__main__":
    main()
