"""rnntui: a terminal playground for recurrent neural networks.

The engine (``rnntui.data``, ``rnntui.models``, ``rnntui.training``, ``rnntui.decoding``) imports no
UI library; only ``rnntui.tui`` and the command line do.
"""

__version__ = "0.1.0"
