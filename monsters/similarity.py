"""The monsters most like a given one: nearest neighbours on the scaled numeric fields.

Each process keeps a k-d tree of every monster's standardised level, health,
energy and sanity, built on first use and rebuilt when the data change (a
million monsters: about a second, and some 40 MB); then a lookup takes
microseconds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import KDTree

from .models import DataVersion, Monster
from .services import monsters_frame

FIELDS = ("level", "health", "energy", "sanity")


@dataclass
class _Index:
    version: str
    ids: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    tree: KDTree | None


_index: _Index | None = None
_lock = threading.Lock()


def _current_index() -> _Index:
    global _index
    version = DataVersion.current()
    with _lock:
        if _index is None or _index.version != version:
            frame = monsters_frame(columns=("id", *FIELDS))
            values = frame[list(FIELDS)].to_numpy(dtype=float)
            mean = values.mean(axis=0) if len(values) else np.zeros(len(FIELDS))
            std = values.std(axis=0) if len(values) else np.ones(len(FIELDS))
            scale = np.where(std > 0, std, 1.0)
            tree = KDTree((values - mean) / scale) if len(values) else None
            _index = _Index(version, frame["id"].to_numpy(), mean, scale, tree)
        return _index


def monsters_similar(monster: Monster, *, count: int = 5) -> list[Monster]:
    """The `count` monsters nearest to `monster` (itself excluded), nearest first."""
    index = _current_index()
    if index.tree is None:
        return []
    point = (np.array([float(getattr(monster, field)) for field in FIELDS]) - index.mean) / index.scale
    wanted = min(count + 1, len(index.ids))
    _, positions = index.tree.query(point.reshape(1, -1), k=wanted)
    ids = [int(index.ids[p]) for p in positions[0] if index.ids[p] != monster.pk][:count]
    found = Monster.objects.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]
