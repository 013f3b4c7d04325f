"""Lazy re-exports for the package faces: a name is imported the first time it is asked for (PEP 562).

`agnews_bert`, `agnews_bert.lab` and `agnews_bert.notebook` each list their public names with
`lazy_exports`, so `import agnews_bert` and `agnews-bert --help` start without torch.

Example:
    >>> getattr_, dir_, names = lazy_exports("agnews_bert", {"CLASS_NAMES": ".labels:CLASS_NAMES"})
    >>> getattr_("CLASS_NAMES")[0]
    'World'
"""

import importlib.util
import sys


def lazy_exports(package: str, exports: dict):
    """`(__getattr__, __dir__, __all__)` for `package`, from `{name: "module:attribute" or "module"}`.

    Module paths are relative to `package` (".labels", "..config"). Any other submodule of the
    package (`agnews_bert.training`) is imported when asked for, as a plain import would.
    """
    def __getattr__(name: str):
        if name in exports:
            module, _, attribute = exports[name].partition(":")
            value = importlib.import_module(importlib.util.resolve_name(module, package))
            if attribute:
                value = getattr(value, attribute)
        elif not name.startswith("__") and importlib.util.find_spec(f"{package}.{name}") is not None:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__, sorted(exports)
