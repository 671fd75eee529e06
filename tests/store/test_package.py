"""``pm_lib.store`` re-exports its repositories lazily (PEP 562): every public name resolves to
its owner's object, and importing one repository module does not load the others."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pm_lib.store as store


def test_every_public_name_resolves_to_the_object_its_module_owns() -> None:
    assert sorted(store.__all__) == sorted(store._OWNERS)
    for name, owner in store._OWNERS.items():
        assert getattr(store, name) is getattr(importlib.import_module(owner), name), name
    assert set(store.__all__) <= set(dir(store))


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        store.no_such_repository  # noqa: B018
    except AttributeError as e:
        assert "no_such_repository" in str(e)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_engine_loads_no_repository() -> None:
    code = (
        "import json, sys; import pm_lib.store.engine; "
        "print(json.dumps([m for m in sys.modules if m.startswith('pm_lib.store.')]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    loaded = set(json.loads(done.stdout))
    assert not loaded & {"pm_lib.store.orders", "pm_lib.store.catalogue", "pm_lib.store.leg_risk"}
