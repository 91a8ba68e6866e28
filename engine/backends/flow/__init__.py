"""The embedded default backend: classical in-betweening on the CPU, no weights needed."""
