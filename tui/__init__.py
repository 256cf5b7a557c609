"""turns-tui: a terminal debugger for pinocchio/geppetto turns databases."""

__version__ = "0.1.0"
