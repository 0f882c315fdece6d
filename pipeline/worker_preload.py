"""Imported by the worker pool's fork server before it forks the workers (`pipeline.workers`).

It loads, once per pool rather than once in every worker, the pipeline's modules and the
models its jobs use. The modules include those a cycle's main process imports: a new
worker re-runs its parent's main module (multiprocessing's rule), and finds them loaded.
"""

import pipeline.run  # noqa: F401
from pipeline.workers import warm_up

warm_up()
