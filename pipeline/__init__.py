"""thidua: year-end scoring, ranking and award proposals for emulation blocs."""

__version__ = "0.1.0"
