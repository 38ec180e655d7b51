"""AutoSlim's search budget in the package's vocabulary: the config's
``searcher=dict(type='GreedySearcher', budget=dict(flops=[0.72, 0.48]))``
(fractions of the supernet's FLOPs kept) becomes mmrazor GreedySearcher's
``target_flops`` (absolute FLOPs) before the searcher is built."""
from ..utils import UserInputError
from ..utils.budget import check_budget


def greedy_target_flops(searcher: dict, algorithm) -> dict:
    """``searcher`` with its ``budget`` turned into ``target_flops``.

    Args:
        searcher: The config's ``searcher`` (not changed).
        algorithm: The AutoSlim algorithm (the supernet) it searches; the
            fractions are of its widest subnet's FLOPs as mmrazor's
            ``get_subnet_flops`` counts them (the count the greedy search
            compares with ``target_flops``).

    Returns:
        A copy; unchanged when it has no ``budget`` (``target_flops``,
        absolute, is mmrazor's own setting and stays accepted).

    Raises:
        UserInputError: Both given, or a bad budget (one line).
    """
    out = dict(searcher)
    budget = out.pop('budget', None)
    if budget is None:
        return out
    if 'target_flops' in out:
        raise UserInputError(
            'searcher: give budget=dict(flops=[...]) (fractions of the '
            'supernet FLOPs kept) or target_flops (absolute FLOPs), not '
            'both')
    budget = check_budget(budget, 'searcher budget', many=True,
                          base='the supernet')
    algorithm.pruner.set_max_channel()
    full = algorithm.get_subnet_flops()
    out['target_flops'] = [int(f * full) for f in budget['flops']]
    return out
