"""Replace a submodule by its dotted name."""
from torch import nn


def set_submodule(model: nn.Module, name: str, new: nn.Module) -> None:
    """``model.<name> = new`` for a dotted ``name`` (``layer1.0.conv1``)."""
    parent, _, leaf = name.rpartition('.')
    owner = model.get_submodule(parent) if parent else model
    setattr(owner, leaf, new)
