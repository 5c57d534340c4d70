"""Every import points down: a module may import its own layer or a lower one.

The layer order is written once, here (top first). A module belongs to the
first entry its dotted name starts with. ``python -m pytest tests/unit/test_layers.py``
parses every module of the product, the actions, the NLU adapters, the
benchmarks and the test harness (``ast``, nothing is imported) and fails on
an import that runs upward, naming it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from bot import PROJECT_ROOT

# Top first. Within one layer, modules may import each other.
LAYERS: list[tuple[str, ...]] = [
    ("tests",),                                  # the tests use everything
    ("bench",),                                  # benchmarks: everything but the tests
    ("harness",),                                # fakes and helpers shared by tests and bench
    ("bot.__main__", "bot.admin", "bot.app"),   # command line and composition root
    ("actions", "nlu"),                          # the two Rasa-side entry points (action server, graph components)
    ("bot.delivery",),                           # dispatcher, scheduler tick, rate limits
    ("bot.console",),                            # the staff console: a web surface over supervision
    ("bot.channels",),                           # one module per platform
    ("bot.conversation",),                       # Rasa client, the turn, inbound de-duplication
    ("bot.runtime",),                            # processes, Rasa environment and training
    ("bot.supervision",),                        # people, enrollment, alerts, check-ins, handover, reminders, texts
    ("bot.outbox",),                             # the queue's state machine
    ("bot.i18n",),                               # catalogs and formats (over domain answers)
    ("bot.storage",),                            # models, engine, sessions, migrations
    ("bot.config", "bot.logsafe"),               # settings; safe logging
    ("bot.domain",),                             # pure rules
    ("vietnamese",),                             # pure Python shared by both environments
    ("bot",),                                    # bot/__init__.py: PROJECT_ROOT only
]
SCANNED = ("bot", "actions", "nlu", "vietnamese", "bench", "harness", "tests")


def layer_of(module: str) -> int | None:
    for i, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from bot import outbox" imports bot.outbox, not bot/__init__.py
            found += [(node.lineno, f"{base}.{a.name}" if layer_of(f"{base}.{a.name}") is not None
                       and f"{base}.{a.name}" != base and _is_module(f"{base}.{a.name}") else base)
                      for a in node.names]
    return found


def _is_module(dotted: str) -> bool:
    p = PROJECT_ROOT.joinpath(*dotted.split("."))
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def sources() -> list[Path]:
    return [f for top in SCANNED for f in sorted((PROJECT_ROOT / top).rglob("*.py"))]


def upward(path: Path, module: str) -> list[str]:
    own = layer_of(module)
    assert own is not None, f"{module} has no layer: add it to LAYERS"
    problems = []
    for line, target in imported(path, module):
        theirs = layer_of(target)
        if theirs is not None and theirs < own:
            problems.append(f"{path.name}:{line}: {module} (layer {own}) imports "
                            f"{target} (layer {theirs}: {', '.join(LAYERS[theirs])})")
    return problems


def upward_imports() -> list[str]:
    return [p for path in sources() for p in upward(path, module_name(path))]


def test_every_module_has_a_layer_and_every_import_points_down():
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path):
    """The check itself can fail: upward imports in every spelling are caught,
    downward ones are not."""
    module = tmp_path / "example.py"
    module.write_text("import bot.app\nfrom bot.delivery import scheduler\nfrom . import people\n"
                      "from bot.storage.models import Person\nfrom vietnamese.clock import utcnow\n")
    found = upward(module, "bot.supervision.example")
    assert [p.split(" imports ")[1].split(" ")[0] for p in found] == ["bot.app", "bot.delivery.scheduler"]
    assert upward(module, "bot.app") == []


def test_the_rasa_side_never_imports_the_app_side_above_supervision():
    """actions/ and nlu/ run in other processes: they import neither the
    composition root, the channels, the delivery side, nor its renderer."""
    forbidden = ("bot.app", "bot.delivery", "bot.channels", "bot.supervision.messages")
    for top in ("actions", "nlu", "vietnamese"):
        for path in sorted((PROJECT_ROOT / top).rglob("*.py")):
            for line, target in imported(path, module_name(path)):
                assert not target.startswith(forbidden), f"{path}:{line} imports {target}"
