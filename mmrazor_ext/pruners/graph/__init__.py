"""The one traced graph of a model: tracing, channel probes, union-find
over channel elements, channel spaces, and the counted ops."""
