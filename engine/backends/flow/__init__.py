"""The embedded default backend: in-betweening on the CPU, learned (RIFE 4.0 flows) when its
weights are installed, classical (OpenCV, no weights) otherwise."""
