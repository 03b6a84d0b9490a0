"""Architecture contracts: the import layers (import-linter, configured in ``pyproject.toml``), the 400-line limit
per module, and the lazy top-level namespace (``import leafjax`` loads no subpackage until a name is used)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import leafjax

ROOT = Path(__file__).resolve().parents[1]  # the repository (this file is tests/test_architecture.py)
PACKAGE = ROOT / "leafjax"
MAX_LINES = 400


def _lint_imports() -> list[str]:
    script = Path(sys.executable).with_name("lint-imports")
    if script.is_file():
        return [str(script)]
    found = shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports not found: install the test extra (pip install -e '.[test]')")
    return [found]


def test_import_contracts_are_kept():
    proc = subprocess.run([*_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = proc.stdout[proc.stdout.find("Contracts"):] if "Contracts" in proc.stdout else proc.stdout
    assert proc.returncode == 0, f"import-linter contracts broken:\n{report}\n{proc.stderr}"
    assert "0 broken" in report


def test_no_module_exceeds_the_line_limit():
    too_long = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            too_long[str(path.relative_to(ROOT))] = n
    assert not too_long, f"modules over {MAX_LINES} lines (split them by concept): {too_long}"


def _type_checking_exports(init: Path) -> dict[str, str]:
    """Names imported in the ``if TYPE_CHECKING:`` block of ``init`` -> defining module (relative to leafjax)."""
    tree = ast.parse(init.read_text(encoding="utf-8"))
    blocks = [n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", None) == "TYPE_CHECKING"]
    assert len(blocks) == 1
    depth = len(init.parent.relative_to(PACKAGE).parts)  # 0 for leafjax/__init__.py
    out = {}
    for node in ast.walk(blocks[0]):
        if isinstance(node, ast.ImportFrom):
            assert node.level == depth + 1, "relative imports from the leafjax package"
            for alias in node.names:
                assert alias.asname == alias.name, f"use explicit `{alias.name} as {alias.name}` re-exports"
                out[alias.name] = node.module or alias.name
    return out


def test_lazy_table_matches_static_reexports():
    static = _type_checking_exports(PACKAGE / "__init__.py")
    subpackages = {name for name, module in static.items() if module == name}
    assert subpackages == set(leafjax._SUBPACKAGES)
    names = {name: module for name, module in static.items() if module != name}
    assert names == leafjax._ORIGIN
    assert set(leafjax.__all__) == {"__version__", *static}
    assert set(leafjax.__all__) <= set(dir(leafjax))
    import leafjax.canopy as shim

    assert _type_checking_exports(PACKAGE / "canopy" / "__init__.py") == shim._ORIGIN
    assert set(shim.__all__) == set(shim._ORIGIN) and set(shim.__all__) <= set(dir(shim))


def test_every_exported_name_resolves():
    import importlib

    import leafjax.canopy as shim

    for name in leafjax.__all__:
        value = getattr(leafjax, name)
        if name in leafjax._SUBPACKAGES:
            assert value is importlib.import_module(f"leafjax.{name}")
        elif name != "__version__":
            assert value is getattr(importlib.import_module(f"leafjax.{leafjax._ORIGIN[name]}"), name)
    for name in shim.__all__:
        assert getattr(shim, name) is getattr(importlib.import_module(f"leafjax.{shim._ORIGIN[name]}"), name)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        leafjax.not_a_name  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        shim.not_a_name  # noqa: B018


def _loaded_after(code: str) -> set[str]:
    probe = ("import sys\n" + code + "\nprint(' '.join(sorted(m for m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300)
    return set(proc.stdout.split())


def test_import_leafjax_loads_no_subpackage_and_no_jax():
    loaded = _loaded_after("import leafjax")
    assert "jax" not in loaded and "numpy" not in loaded
    assert {m for m in loaded if m.startswith("leafjax.")} == {"leafjax._version"}


def test_physics_does_not_load_networks_or_tables_libraries():
    loaded = _loaded_after("import leafjax; leafjax.ProspectD; import leafjax.physics.canopy")
    assert "jax" in loaded
    for heavy in ("flax", "optax", "pandas", "pyarrow", "leafjax.networks", "leafjax.inversion"):
        assert heavy not in loaded, heavy


def test_tests_mirror_the_packages():
    """Every test folder is named after a subpackage of leafjax (tests mirror the packages)."""
    tests = ROOT / "tests"
    folders = [p.name for p in tests.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))]
    assert folders, "no test folders"
    missing = [f for f in folders if not (PACKAGE / f / "__init__.py").is_file()]
    assert not missing, f"test folders without a matching leafjax subpackage: {missing}"
