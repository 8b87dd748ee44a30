"""Ordering of subscriptions: a sort key plus before/after constraints.

The chain is ``sorted(key)`` where the key is ``(order, scope depth, plugin
rank, registration sequence)``; ``before=``/``after=`` constraints then turn
it into a topological sort (Kahn's algorithm, ties broken by the same key),
so the result is deterministic. Runs at subscribe time only.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._errors import OrderError

if TYPE_CHECKING:
    from ._subscription import Subscription

__all__ = ["order_subscriptions"]

SortKey = tuple[int, int, int, int]


def _label(sub: Subscription[Any]) -> str:
    if sub.owner is not None:
        return sub.owner
    return getattr(sub.handler, "__qualname__", None) or repr(sub.handler)


def order_subscriptions(
    subs: Sequence[Subscription[Any]],
    key: Callable[[Subscription[Any]], SortKey],
    event_type: type,
    kind: str,
) -> tuple[Subscription[Any], ...]:
    """Return ``subs`` in run order; raise :class:`OrderError` on a cycle."""
    ranked = sorted(subs, key=key)
    if not any(s.before or s.after for s in ranked):
        return tuple(ranked)

    by_owner: dict[str, list[int]] = {}
    for i, s in enumerate(ranked):
        if s.owner is not None:
            by_owner.setdefault(s.owner, []).append(i)
    edges: list[set[int]] = [set() for _ in ranked]
    for i, s in enumerate(ranked):
        for name in s.before:
            for j in by_owner.get(name, ()):
                if ranked[j].owner != s.owner:
                    edges[i].add(j)
        for name in s.after:
            for j in by_owner.get(name, ()):
                if ranked[j].owner != s.owner:
                    edges[j].add(i)
    indegree = [0] * len(ranked)
    for targets in edges:
        for j in targets:
            indegree[j] += 1
    # The heap holds positions in `ranked`, which already follow the key.
    ready = [i for i, d in enumerate(indegree) if d == 0]
    heapq.heapify(ready)
    result: list[Subscription[Any]] = []
    while ready:
        i = heapq.heappop(ready)
        result.append(ranked[i])
        for j in edges[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                heapq.heappush(ready, j)
    if len(result) < len(ranked):
        left = [i for i, d in enumerate(indegree) if d > 0]
        raise OrderError(_find_cycle(left, edges, ranked), event_type, kind)
    return tuple(result)


def _find_cycle(
    left: list[int], edges: list[set[int]], ranked: list[Subscription[Any]]
) -> list[str]:
    """Owners along one cycle among the nodes Kahn's algorithm could not place.

    Every node left has a predecessor that was left too, so walking
    predecessors from any of them must come back to a node already seen.
    """
    remaining = set(left)
    preds: dict[int, list[int]] = {i: [] for i in left}
    for i in left:
        for j in edges[i]:
            if j in remaining:
                preds[j].append(i)
    path: list[int] = []
    seen: dict[int, int] = {}
    node = left[0]
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = min(preds[node])
    cycle = list(reversed(path[seen[node] :]))
    owners: list[str] = []
    for i in cycle:
        label = _label(ranked[i])
        if not owners or owners[-1] != label:
            owners.append(label)
    if len(owners) > 1 and owners[0] == owners[-1]:
        owners.pop()
    return owners
