"""Every name a package re-exports resolves (the lazy re-exports cannot go stale silently)."""

import importlib

import pytest


@pytest.mark.parametrize("package", ["routing", "matcher", "routing.irp"])
def test_reexports_resolve(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018
