"""Every route from a chapter page into running code: Binder, Colab, a local JupyterLab, and
publishing through GitHub Actions. Fast checks of the files each route reads; no network, no training.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
SYNC = ROOT / "tools" / "sync_notebooks.py"
COLAB_TAG = "remove-cell"


def _config():
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def _repo_url():
    return _config()["repository"]["url"].rstrip("/")


def _toc_notebooks():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"file:\s*(\S+)", toc)
    notebooks = [ROOT / f"{f.removesuffix('.ipynb')}.ipynb" for f in files]
    return [p for p in notebooks if p.exists()]


NOTEBOOKS = _toc_notebooks()


def _code_cells(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def _colab_cell(path):
    return _code_cells(path)[0]


def _lines(path):
    """Lines of a requirements-style file without comments and blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


# Binder --------------------------------------------------------------------------------------

def test_binder_runtime_is_python_311():
    assert (BINDER / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"


def test_binder_requirements_are_the_books_requirements():
    # repo2docker runs `pip install -r binder/requirements.txt` from the repository root; pip
    # resolves a nested -r relative to the file that contains it, so this is requirements.txt.
    lines = _lines(BINDER / "requirements.txt")
    assert lines == ["-r ../requirements.txt"], lines
    assert (BINDER / "../requirements.txt").resolve() == ROOT / "requirements.txt"
    assert (ROOT / "requirements.txt").exists()


def test_binder_postbuild_installs_the_package_editable():
    post_build = BINDER / "postBuild"
    text = post_build.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in text
    install = [line for line in _lines(post_build) if re.search(r"\bpip install\b", line)]
    assert len(install) == 1, install
    assert "--no-deps" in install[0].split(), "the pinned dependencies come from requirements.txt"
    assert re.search(r"(^|\s)-e \.($|\s)", install[0]), f"not an editable install of the root: {install[0]}"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"


def test_binder_start_defaults_to_the_quick_profile():
    """Binder's machines are small: its start script picks the quick profile unless one is set."""
    start = BINDER / "start"
    env = {**os.environ}
    env.pop("VAEBOOK_PROFILE", None)
    run = subprocess.run([str(start), "sh", "-c", "echo $VAEBOOK_PROFILE"], env=env,
                         capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "quick"
    env["VAEBOOK_PROFILE"] = "full"
    run = subprocess.run([str(start), "sh", "-c", "echo $VAEBOOK_PROFILE"], env=env,
                         capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "full"


def test_binder_postbuild_is_executable_in_git():
    """Once committed, the executable bit must be in the index too (mode 100755)."""
    try:
        staged = subprocess.run(["git", "ls-files", "-s", "binder/postBuild"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    if not staged:
        pytest.skip("binder/postBuild is not committed yet")
    assert staged.startswith("100755"), staged


# Local JupyterLab and Binder's interface ---------------------------------------------------------

def _pins():
    pins = {}
    for line in _lines(ROOT / "requirements.txt"):
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(\S+)$", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


@pytest.mark.parametrize("name", ["jupyterlab", "jupyterlab-myst"])
def test_requirements_pin_jupyterlab_and_myst(name):
    assert name in _pins(), f"requirements.txt does not pin {name} with =="


def test_launch_buttons_open_jupyterlab_on_binder_and_colab():
    buttons = _config()["launch_buttons"]
    assert buttons["notebook_interface"] == "jupyterlab"
    assert buttons["binderhub_url"].startswith("https://")
    assert buttons["colab_url"].startswith("https://colab.research.google.com")


# One repository URL ------------------------------------------------------------------------------

def _slug():
    match = re.match(r"https://github\.com/([^/]+/[^/]+?)(\.git)?$", _repo_url())
    assert match, f"repository.url is not a GitHub repository URL: {_repo_url()}"
    return match[1]


def _mentions_of_the_repository(text):
    """Every spelling of the repository's address: github.com/owner/name, Binder's gh/owner/name,
    Colab's github/owner/name, owner.github.io/name."""
    owner, name = _slug().split("/")
    slug = re.escape(f"{owner}/{name}")
    pages = re.escape(f"{owner}.github.io/{name}")
    return re.findall(rf"(?i)(?<![\w.-])(?:{slug}|{pages})(?![\w.-])", text)


def _text_files():
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "pyproject.toml"]
    files += sorted((ROOT / "book").glob("*.md")) + sorted((ROOT / "book").glob("*.bib"))
    return [p for p in files if p.exists()]


def test_repository_url_is_set_once_in_config():
    config_text = (ROOT / "_config.yml").read_text(encoding="utf-8")
    mentions = _mentions_of_the_repository(config_text)
    assert len(mentions) == 1, f"_config.yml names the repository {len(mentions)} times; only repository.url may"


@pytest.mark.parametrize("path", _text_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_copy_of_the_repository_url_in_prose(path):
    mentions = _mentions_of_the_repository(path.read_text(encoding="utf-8"))
    assert not mentions, f"{path.name} repeats the repository's address; refer to _config.yml's repository.url"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_name_the_repository_only_in_the_colab_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    colab = next(i for i, cell in enumerate(cells) if cell["cell_type"] == "code")
    for i, cell in enumerate(cells):
        if i == colab:
            continue
        source = "".join(cell["source"])
        assert not _mentions_of_the_repository(source), f"{path.name}: repository address outside the Colab cell"
        assert not re.search(r"git\+\w+://", source), f"{path.name}: a URL to pip install from outside the Colab cell"


# Colab -------------------------------------------------------------------------------------------

def test_sync_notebooks_check_passes():
    result = subprocess.run([sys.executable, str(SYNC), "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sync_notebooks_follows_a_new_url(tmp_path):
    """On a copy: --check names the stale notebooks and writes nothing; a sync changes only the
    URL in the Colab cell; afterwards --check passes."""
    (tmp_path / "notebooks").mkdir()
    for name in ("_toc.yml", "_config.yml"):
        (tmp_path / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    for path in NOTEBOOKS:
        (tmp_path / "notebooks" / path.name).write_bytes(path.read_bytes())
    config = tmp_path / "_config.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(_repo_url(), "https://github.com/a-fork/book"),
                      encoding="utf-8")

    def sync(*args):
        return subprocess.run([sys.executable, str(SYNC), "--root", str(tmp_path), *args],
                              capture_output=True, text=True, timeout=120)

    check = sync("--check")
    assert check.returncode == 1
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in check.stderr
        assert (tmp_path / "notebooks" / path.name).read_bytes() == path.read_bytes()
    assert sync().returncode == 0
    for path in NOTEBOOKS:
        before = path.read_text(encoding="utf-8").splitlines()
        after = (tmp_path / "notebooks" / path.name).read_text(encoding="utf-8").splitlines()
        changed = [(a, b) for a, b in zip(before, after) if a != b]
        assert len(before) == len(after) and len(changed) == 1, changed
        assert changed[0][1] == changed[0][0].replace(_repo_url(), "https://github.com/a-fork/book")
    assert sync("--check").returncode == 0


def test_every_chapter_notebook_is_synced():
    assert NOTEBOOKS, "no notebooks in _toc.yml"
    spec = importlib.util.spec_from_file_location("sync_notebooks", SYNC)
    sync = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sync)
    assert sync.toc_notebooks(ROOT) == NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_is_first_and_hidden(path):
    cell = _colab_cell(path)
    source = "".join(cell["source"])
    assert '"google.colab" in sys.modules' in source, f"{path.name}: first code cell is not the Colab cell"
    assert COLAB_TAG in cell.get("metadata", {}).get("tags", [])
    assert f"vaebook @ git+{_repo_url()}" in source


def _run_cell(path, monkeypatch, in_colab):
    calls = []

    def fake_run(*args, **kwargs):
        if not in_colab:
            raise AssertionError(f"the Colab cell ran a command outside Colab: {args}")
        calls.append((args, kwargs))
        return subprocess.CompletedProcess(args[0], 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile("".join(_colab_cell(path)["source"]), f"{path.name}[colab cell]", "exec"), {})
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_does_nothing_outside_colab(path, monkeypatch):
    assert _run_cell(path, monkeypatch, in_colab=False) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_installs_from_the_repository_in_colab(path, monkeypatch):
    from packaging.requirements import Requirement

    calls = _run_cell(path, monkeypatch, in_colab=True)
    assert len(calls) == 1
    (command,), kwargs = calls[0]
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert kwargs.get("check") is True
    requirement = Requirement(command[-1])
    assert requirement.name == "vaebook"
    assert requirement.url == f"git+{_repo_url()}"


# GitHub Actions ------------------------------------------------------------------------------------

def _workflow():
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _triggers(workflow):
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True.
    return workflow.get("on", workflow.get(True))


def _runs(job):
    return "\n".join(step.get("run", "") for step in job.get("steps", []))


def _uses(job):
    return [step.get("uses", "") for step in job.get("steps", [])]


def test_workflow_matches_the_github_schema():
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema)")
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_triggers_on_pull_requests_and_main():
    triggers = _triggers(_workflow())
    assert "pull_request" in triggers
    assert "main" in triggers["push"]["branches"]


def test_pull_requests_run_make_test():
    jobs = _workflow()["jobs"]
    testing = [job for job in jobs.values() if re.search(r"^\s*make test\s*$", _runs(job), re.M)]
    assert len(testing) == 1
    job = testing[0]
    assert "pull_request" in job.get("if", "pull_request")
    assert "actions/checkout@v4" in _uses(job)
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["uses"] == "actions/setup-python@v5"
    assert str(setup["with"]["python-version"]) == "3.11"
    assert setup["with"]["cache"] == "pip"
    assert setup["with"]["cache-dependency-path"] == "requirements.txt"


def test_main_builds_and_deploys_the_book():
    jobs = _workflow()["jobs"]
    building = [name for name, job in jobs.items() if re.search(r"^\s*make book\s*$", _runs(job), re.M)]
    assert len(building) == 1
    build = jobs[building[0]]
    assert "push" in build.get("if", "push")
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["uses"] == "actions/upload-pages-artifact@v3"
    assert upload["with"]["path"] == "_build/html"

    deploy = next(job for job in jobs.values() if "actions/deploy-pages@v4" in _uses(job))
    assert building[0] in ([deploy["needs"]] if isinstance(deploy["needs"], str) else deploy["needs"])
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    environment = deploy["environment"]
    assert (environment["name"] if isinstance(environment, dict) else environment) == "github-pages"
    concurrency = deploy.get("concurrency") or _workflow().get("concurrency")
    assert (concurrency["group"] if isinstance(concurrency, dict) else concurrency) == "pages"


def test_workflow_caches_the_trained_models():
    caches = [step["with"]["path"] for job in _workflow()["jobs"].values() for step in job.get("steps", [])
              if step.get("uses") == "actions/cache@v4"]
    paths = {line.strip() for path in caches for line in path.splitlines()}
    assert "~/.cache/vaebook" in paths
    assert "_build/.jupyter_cache" in paths


def test_python_version_is_the_same_everywhere():
    """Binder, CI and the package agree on the Python version the book is tested on."""
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip().removeprefix("python-")
    versions = {str(step["with"]["python-version"]) for job in _workflow()["jobs"].values()
                for step in job.get("steps", []) if step.get("uses", "").startswith("actions/setup-python@")}
    assert versions == {runtime}
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert requires == f">={runtime}" == ">=3.11"


# Set-up page -----------------------------------------------------------------------------------------

def test_setup_page_does_not_mention_python_310():
    for path in (ROOT / "book" / "setup.md", ROOT / "README.md"):
        assert not re.search(r"3\.10(?!\d)", path.read_text(encoding="utf-8")), f"{path.name} mentions Python 3.10"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_a_unique_id(path):
    """nbformat 4.5 wants an id on every cell (a missing one is a warning now, an error later);
    Jupyter Book and nbval address cells by them."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    ids = [cell.get("id") for cell in cells]
    assert None not in ids, f"{path.name}: cells {[i for i, v in enumerate(ids) if v is None]} have no id"
    assert len(set(ids)) == len(ids), f"{path.name}: repeated cell ids"
