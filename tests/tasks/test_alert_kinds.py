"""Every alert the bridge emits reads as a sentence, with a link to the handbook section that says what to do.

The emitted kinds are found in the code itself (each `emit_alert(report, event, resource, payload)` call under
tasks/ and flows/, its event and payload keys read from the source), so a stream that adds an alert without a
sentence, or a sentence that names a value its payload never carries ("?" in the channel), fails here.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from string import Formatter

import pytest

from deployments.automations import ALERT_RULES
from tasks.alert_text import EVENT_SENTENCES, alert_sentence

ROOT = Path(__file__).resolve().parents[2]
ALERTS_PAGE = ROOT / "docs" / "handbook" / "alerts.md"


@dataclass(frozen=True)
class Emission:
    """One `emit_alert` call site: where, which event(s) it may emit, and the payload keys it always sends."""

    where: str
    events: frozenset[str]
    keys: frozenset[str]


def _string(node: ast.expr, module: object, scope: ast.AST, line: int) -> set[str]:
    """The event names an expression can hold: literals, module constants, a local assigned either, a ternary."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _string(node.body, module, scope, line) | _string(node.orelse, module, scope, line)
    if isinstance(node, ast.Name):
        value = getattr(module, node.id, None)
        if isinstance(value, str):
            return {value}
        assigned = _assigned(scope, node.id, line)
        if assigned is not None:
            return _string(assigned, module, scope, line)
    raise AssertionError(f"cannot read the event of {ast.unparse(node)}: use a literal or a module constant")


def _keys(node: ast.expr, scope: ast.AST, line: int) -> set[str]:
    """The keys a payload expression carries: a dict literal, `**` of one, `a | b`, a local assigned one."""
    if isinstance(node, ast.Dict):
        keys: set[str] = set()
        for key, value in zip(node.keys, node.values, strict=True):
            keys |= _keys(value, scope, line) if key is None else {ast.literal_eval(key)}
        return keys
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _keys(node.left, scope, line) | _keys(node.right, scope, line)
    if isinstance(node, ast.Name):
        assigned = _assigned(scope, node.id, line)
        if assigned is not None:
            return _keys(assigned, scope, line)
    raise AssertionError(f"cannot read the payload keys of {ast.unparse(node)}: build it as a dict literal")


def _assigned(scope: ast.AST, name: str, line: int) -> ast.expr | None:
    """The value of the last assignment to `name` in `scope` above `line` (the one a call on `line` sees)."""
    values = [
        (node.lineno, node.value)
        for node in ast.walk(scope)
        if isinstance(node, ast.Assign)
        and node.lineno < line
        and any(isinstance(target, ast.Name) and target.id == name for target in node.targets)
    ]
    return max(values, key=lambda pair: pair[0])[1] if values else None


def _emissions() -> list[Emission]:
    found = []
    for path in sorted([*ROOT.glob("tasks/**/*.py"), *ROOT.glob("flows/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or function.name == "emit_alert":
                continue
            for call in ast.walk(function):
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "emit_alert":
                    _, event, _, payload = call.args
                    where = f"{path.relative_to(ROOT)}:{call.lineno}"
                    events = frozenset(_string(event, module, function, call.lineno))
                    found.append(Emission(where, events, frozenset(_keys(payload, function, call.lineno))))
    return found


EMISSIONS = _emissions()
EMITTED = {event for emission in EMISSIONS for event in emission.events}


def test_the_walk_finds_the_alerts_of_every_stream() -> None:
    areas = {event.split(".")[1] for event in EMITTED}
    expected = {"drift", "offer-sync", "acceptance", "gate", "feed", "orders", "shipments", "refunds", "outage"}
    assert expected | {"reconciliation"} <= areas
    assert len(EMISSIONS) >= 20


@pytest.mark.parametrize("emission", EMISSIONS, ids=lambda e: e.where)
def test_every_emitted_alert_has_its_own_sentence_filled_from_its_payload(emission: Emission) -> None:
    for event in emission.events:
        assert event in EVENT_SENTENCES, f"{emission.where}: {event} has no sentence in tasks/alert_text.py"
        names = {name for _, name, _, _ in Formatter().parse(EVENT_SENTENCES[event]) if name}
        assert names <= emission.keys, f"{emission.where}: {event} names {sorted(names - emission.keys)} it lacks"
        sentence = alert_sentence(event, "bcmirakl.x.1", {key: 7 for key in emission.keys})
        assert "?" not in sentence and "{" not in sentence and "[" not in sentence, sentence  # no dump, no gap
        assert sentence.endswith("."), sentence


@pytest.mark.parametrize("event", sorted(EMITTED))
def test_every_emitted_alert_reaches_a_rule_linking_to_its_handbook_section(event: str) -> None:
    headings = [line[3:].strip() for line in ALERTS_PAGE.read_text(encoding="utf-8").splitlines()]
    anchors = {heading.lower().replace(" ", "-") for heading in headings}
    rules = [rule for rule in ALERT_RULES if any(fnmatch(event, pattern) for pattern in rule.expect)]
    assert len(rules) == 1, f"{event} is sent by {len(rules)} alert rules"
    assert rules[0].anchor in anchors
    assert f"alerts.md#{rules[0].anchor}" in rules[0].message()
    assert f"`{event}`" in ALERTS_PAGE.read_text(encoding="utf-8"), f"the alerts page does not explain {event}"


def test_no_sentence_waits_for_an_alert_nothing_emits() -> None:
    assert set(EVENT_SENTENCES) == EMITTED
