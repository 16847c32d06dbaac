"""Looking inside text, data and models: what the inspector views and ``rnntui inspect`` show.

Plain numbers and strings out (never tensors), no UI library imported.
"""


class Cancelled(Exception):
    """``should_stop()`` returned true: the computation was abandoned (nothing half-done is kept)."""
