"""The trained classifier an algorithm starts from."""
from torch import nn

from ..utils import UserInputError, check_checkpoint, state_dict_mismatch


def load_pretrained(model: nn.Module, path: str) -> None:
    """Load a classifier checkpoint (mmcls keys, or an algorithm's own
    ``architecture.model.*`` keys) strictly into ``model``; a mismatch is
    one line naming the first differing key."""
    ckpt = check_checkpoint(path, 'pretrained')
    state = ckpt.get('state_dict', ckpt)
    prefix = 'architecture.model.'
    if any(k.startswith(prefix) for k in state):
        state = {k[len(prefix):]: v for k, v in state.items()
                 if k.startswith(prefix)}
    what = state_dict_mismatch(model.state_dict(), state)
    if what:
        raise UserInputError(f'pretrained checkpoint {path} does not '
                             f'match the architecture ({what})')
    model.load_state_dict(state)
