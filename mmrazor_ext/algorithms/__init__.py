"""Algorithms (mmrazor ALGORITHMS) and their runner hooks."""
from .one_shot_algorithm import OneShotAlgorithm
from .one_shot_hook import OneShotHook

__all__ = ['OneShotAlgorithm', 'OneShotHook']
