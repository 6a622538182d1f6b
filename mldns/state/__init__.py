"""The state: its format, the stores that keep it (a directory, Cloud Storage), the lock, the
journal and the writer of an apply, and moving a state between backends.

Invariants of the package: the state is written whole and atomically, under the lock, fenced
against a writer that lost it; every edit goes through a store's `write`.
"""

from mldns.state.format import FORMAT_VERSION, State

__all__ = ["FORMAT_VERSION", "State"]
