"""Scores -> subnets: uniform, global ranking, ratios per space, FLOPs
targets; subnet files."""
