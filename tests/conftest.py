"""Suite-wide test settings.

Hypothesis' per-example deadline is a timed assertion in disguise: on a loaded
two-core CI machine a 2048-bit proof can exceed it and fail a correct test. Speed
is measured by the benchmarks in scripts/, never here, so the deadline is off.
"""

from hypothesis import settings

settings.register_profile("tssnet", deadline=None, print_blob=True)
settings.load_profile("tssnet")
