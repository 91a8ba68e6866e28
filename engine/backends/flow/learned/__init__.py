"""The learned path of the flow backend: an IFNet (RIFE 4.0's architecture) written here,
loading RIFE 4.0's MIT-licensed weights from the user's models folder.

Everything here imports torch; the rest of the flow backend does not, so a machine without
torch (or without the weights) still gets the classical path.
"""
