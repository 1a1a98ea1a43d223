"""Scale-out on a Ray cluster (``xret bench --ray``): the same pipeline, encoded and searched on
Ray workers, results in the same cache, corpus store and records.

Ray is an optional extra (``pip install 'xret[ray]'``); nothing here imports it until a run asks
for it. ``RayEngine`` is the whole interface: an ``EmbeddingEngine`` whose encoding runs through
Ray Data over an actor pool (xret.cluster.encode) and whose exact corpus search runs per part on
the workers (xret.cluster.search).
"""

from xret.cluster.encode import RayEngine
from xret.cluster.runtime import ClusterOptions

__all__ = ["ClusterOptions", "RayEngine"]
