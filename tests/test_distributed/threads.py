"""Ranks played by threads of one process, for testing the code of several processes on
every backend without MPI."""

from __future__ import annotations

import threading

import xpnet
from xpnet.backend import to_device_of, to_numpy
from xpnet.distributed import Transport


class ThreadRanks:
    """``size`` ranks played by threads: each gets a transport; sums are taken in rank
    order on the host, as MPI would."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.barrier = threading.Barrier(size, timeout=60)
        self.slots: list = [None] * size

    def exchange(self, rank: int, value):
        self.slots[rank] = value
        self.barrier.wait()
        values = list(self.slots)
        self.barrier.wait()  # nobody overwrites a slot before every rank has read them
        return values

    def transport(self, rank: int) -> Transport:
        return ThreadTransport(self, rank)


class ThreadTransport(Transport):
    def __init__(self, ranks: ThreadRanks, rank: int) -> None:
        self.ranks, self.rank, self.size, self.comm = ranks, rank, ranks.size, None
        self.aborted = None

    def allreduce_sum(self, flat):
        parts = self.ranks.exchange(self.rank, to_numpy(flat).copy())
        total = parts[0].copy()
        for part in parts[1:]:
            total += part
        return to_device_of(total, flat)

    def broadcast(self, flat):
        # Each rank its own copy: ranks never share memory, as separate processes don't.
        return to_device_of(self.ranks.exchange(self.rank, to_numpy(flat).copy())[0].copy(), flat)

    def gather_values(self, value):
        return self.ranks.exchange(self.rank, value)

    def broadcast_value(self, value):
        return self.gather_values(value)[0]

    def gather_to_root(self, value):
        values = self.gather_values(value)
        return values if self.rank == 0 else None

    def ranks_on_this_machine(self):
        return self.rank, self.size

    def split(self, color, key):
        """MPI's Comm.Split: the ranks of each color, ordered by (key, rank), get a new
        ThreadRanks of their own, made by the group's first rank and handed to the rest."""
        wishes = self.gather_values((color, key))
        group = sorted((k, r) for r, (c, k) in enumerate(wishes) if c == color)
        members = [r for _, r in group]
        made = ThreadRanks(len(members)) if members[0] == self.rank else None
        shared = self.gather_values(made)[members[0]]
        return ThreadTransport(shared, members.index(self.rank))

    def abort(self, status=1):
        self.aborted = status


def fit_on_threads(size, *args, then=None, per_rank=None, **kwargs):
    """``xpnet.fit(*args, comm=<rank's transport>, **kwargs)`` on ``size`` thread ranks
    (with ``**per_rank(rank)`` too where given); returns each rank's result
    (``then(transport, result)`` of it where given), or every rank's exception where any
    rank raised one."""
    ranks = ThreadRanks(size)
    results, errors = [None] * size, [None] * size

    def run(rank):
        try:
            transport = ranks.transport(rank)
            own = {} if per_rank is None else per_rank(rank)
            result = xpnet.fit(*args, comm=transport, **kwargs, **own)
            results[rank] = result if then is None else then(transport, result)
        except BaseException as exc:  # noqa: BLE001 - handed to the test below
            errors[rank] = exc

    threads = [threading.Thread(target=run, args=(rank,)) for rank in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if any(errors):
        return errors
    return results


def on_threads(size, work):
    """``work(rank, transport)`` on ``size`` thread ranks; every rank's result, or the
    first exception a rank raised."""
    ranks = ThreadRanks(size)
    results, errors = [None] * size, []

    def run(rank):
        try:
            results[rank] = work(rank, ranks.transport(rank))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if errors:
        raise errors[0]
    return results
