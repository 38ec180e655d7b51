"""Union-find over channel elements, with "blocked" marks on sets.

Every output channel of a producing layer (conv / linear) is an element.
Elements that must be kept or removed together end up in one set. A set can
be marked blocked (unprunable) with a reason; joining sets keeps the mark.
Element ``INPUT`` (0) stands for the network's input channels, blocked
from the start.
"""
from typing import Dict, Iterable, List

import torch

INPUT = 0  # element id of the network input's channels
NONE = -1  # position that carries no traced channel (constant, unknown)


class ElementUnion:
    """Disjoint sets of channel elements, with blocking reasons."""

    def __init__(self):
        self.parent: List[int] = [INPUT]
        self.blocked: Dict[int, str] = {INPUT: 'network input channels'}
        # (parameter, dim, element ids): parameters following channels
        # outside any layer (``param_channels``)
        self.param_channels: List[tuple] = []

    def add_param_channel(self, param, dim: int, ids: torch.Tensor) -> None:
        """Note that ``param``'s entries along ``dim`` follow ``ids``."""
        self.param_channels.append((param, dim, ids))

    def new(self, count: int) -> torch.Tensor:
        """Allocate ``count`` fresh elements; returns their ids."""
        start = len(self.parent)
        self.parent.extend(range(start, start + count))
        return torch.arange(start, start + count)

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        if a < 0 or b < 0:
            return
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if ra > rb:  # the older element stays root: stable space names
            ra, rb = rb, ra
        self.parent[rb] = ra
        if rb in self.blocked:
            self.blocked.setdefault(ra, self.blocked.pop(rb))

    def union_pairs(self, a: torch.Tensor, b: torch.Tensor) -> None:
        """Join ``a[i]`` with ``b[i]`` for every position."""
        differ = (a != b) & (a >= 0) & (b >= 0)
        parent, blocked, find = self.parent, self.blocked, self.find
        for x, y in zip(a[differ].tolist(), b[differ].tolist()):
            ra, rb = find(x), find(y)  # self.union(x, y), inlined
            if ra == rb:
                continue
            if ra > rb:
                ra, rb = rb, ra
            parent[rb] = ra
            if rb in blocked:
                blocked.setdefault(ra, blocked.pop(rb))

    def union_all(self, ids: Iterable[int]) -> None:
        """Join every id in ``ids`` into one set."""
        ids = [x for x in (ids.tolist() if isinstance(ids, torch.Tensor)
                           else ids) if x >= 0]
        for x in ids[1:]:
            self.union(ids[0], x)

    def block(self, ids, reason: str) -> None:
        """Mark every set containing one of ``ids`` unprunable."""
        if isinstance(ids, torch.Tensor):
            ids = ids[ids >= 0].unique().tolist()
        for x in ids:
            if x >= 0:
                self.blocked.setdefault(self.find(x), reason)

    def roots(self) -> torch.Tensor:
        """Root of every element, as one tensor indexed by element id
        (pointer jumping over the whole parent array at once)."""
        p = torch.tensor(self.parent, dtype=torch.long)
        while True:
            q = p[p]
            if torch.equal(q, p):
                return p
            p = q

    def reason(self, root: int) -> str:
        """Why the set with this root is blocked ('' if it is not)."""
        return self.blocked.get(root, '')
