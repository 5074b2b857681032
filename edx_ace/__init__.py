"""The edx-ace names for ACE: ``edx_ace.X`` is the very module object ``ace.X``.

Code written for edx-ace (``from edx_ace import ace; ace.send(msg)``,
``mock.patch('edx_ace.policy.policies')``) runs unchanged: an import hook hands out the ``ace``
module for every ``edx_ace`` submodule instead of loading a second copy.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys

from ace import *  # noqa: F401,F403  (the names edx_ace exports)
from ace import __all__ as _ace_all
from ace import ace  # noqa: F401  (edx_ace.ace is the module holding send)

#: edx_ace module names whose ace counterpart is spelled differently.
_RENAMED = {
    # The edx-ace documentation's own examples import from "edx_ace.messages".
    "edx_ace.messages": "ace.message",
}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module):
        # The import system stamped our alias spec on the shared module: give it its own back.
        module.__spec__ = self._spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    prefix = "edx_ace."

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(self.prefix):
            return None
        target_name = _RENAMED.get(fullname, "ace." + fullname[len(self.prefix):])
        if importlib.util.find_spec(target_name) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name))


if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _AliasFinder())

#: The edx-ace release whose API (and released test suite) this package implements; ACE's own version is
#: ``ace.__version__``.
__version__ = "1.15.0"

__all__ = [*_ace_all, "ace", "__version__"]
