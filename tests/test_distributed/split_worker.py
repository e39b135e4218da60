"""Run under ``mpiexec -n 4 python -m mpi4py``: splits made once per communicator are
found again only on that communicator, not on a later one that MPI gave a freed one's
handle (on every rank, or on some ranks only). Rank 0 writes what it saw to argv[1]."""

import json
import sys

from mpi4py import MPI

from xpnet.distributed.transport import split_comm

world = MPI.COMM_WORLD
seen = {}

# The same handle on every rank: a split of b must not be the one made for a.
a = world.Split(world.rank // 2, world.rank)  # {0, 1} {2, 3}
split_comm(a, 0, a.rank)
a.Free()
b = world.Split(world.rank % 2, world.rank)  # {0, 2} {1, 3}
seen["b"] = split_comm(b, 0, b.rank).allgather(world.rank)
b.Free()

# The handle reused on some ranks only: every rank must still enter the same Split.
c = world.Dup()
split_comm(c, c.rank // 2, c.rank)
c.Free()
if world.rank == 0:
    mine = MPI.COMM_SELF.Dup()  # takes the freed handle here alone
d = world.Dup()
seen["d"] = split_comm(d, d.rank // 2, d.rank).allgather(world.rank)
# And made once: asked again, the same communicator.
seen["again"] = split_comm(d, d.rank // 2, d.rank) is split_comm(d, d.rank // 2, d.rank)
everything = world.gather(seen, root=0)
if world.rank == 0:
    with open(sys.argv[1], "w") as f:
        json.dump(everything, f)
