"""The trained classifier an algorithm starts from."""
from torch import nn

from ..utils import UserInputError, check_checkpoint


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
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    shapes = [f'{k} {tuple(v.shape)} vs {tuple(own[k].shape)}'
              for k, v in state.items()
              if k in own and tuple(v.shape) != tuple(own[k].shape)]
    if missing or extra or shapes:
        what = (f'shapes differ: {shapes[0]}' if shapes else
                f'missing keys: {missing[:3]}' if missing else
                f'unexpected keys: {extra[:3]}')
        raise UserInputError(f'pretrained checkpoint {path} does not '
                             f'match the architecture ({what})')
    model.load_state_dict(state)
