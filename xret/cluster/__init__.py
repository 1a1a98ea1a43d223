"""Scale-out on a Ray cluster (``xret bench --ray``): the same pipeline, encoded and searched on
Ray workers, results in the same cache, corpus store and records.

Ray is an optional extra (``pip install 'xret[ray]'``); nothing here imports it until a run asks
for it. ``RayEngines`` is the whole interface: the engine factory a bench is given
(``BenchConfig.engines``), whose engines encode through ``RayEncoding`` (the engine's encoding
backend) over a pool of long-lived actors (xret.cluster.encode) and search a corpus exactly, part
by part, on the workers (xret.cluster.search).
"""

from xret.cluster.encode import RayEngines
from xret.cluster.runtime import ClusterOptions

__all__ = ["ClusterOptions", "RayEngines"]
