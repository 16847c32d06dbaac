"""Looking inside text, data and models: what the inspector views and ``rnntui inspect`` show.

Plain numbers and strings out (never tensors), no UI library imported.
"""
