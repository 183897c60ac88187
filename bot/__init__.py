"""parkbot: service bot of the park science associations."""

__version__ = "0.1.0"
