"""The ``mmcv.ops`` stand-in, in this process (mmcv here has no compiled
ops): ``mmcv.ops`` imports, and a compiled op that is called raises one
line naming the op and the model's module that called it."""
import pytest
import torch

from mmrazor_ext.compat import CompiledOpUnavailable, is_stand_in, note_model
from mmrazor_ext.compat.mmcv_ops import StandInFinder, install


def test_installed_once_and_last():
    import importlib.machinery
    import sys
    install()
    finders = [f for f in sys.meta_path if isinstance(f, StandInFinder)]
    assert len(finders) == 1  # after the finder of installed files
    assert sys.meta_path.index(finders[0]) > sys.meta_path.index(
        importlib.machinery.PathFinder)
    assert StandInFinder().find_spec('mmcv.other') is None


def test_mmcv_ops_import_and_a_called_op_names_itself():
    import mmcv.ops
    from mmcv.utils import ext_loader
    if not is_stand_in():
        pytest.skip('mmcv has compiled ops here')
    with pytest.raises(CompiledOpUnavailable) as err:
        mmcv.ops.PSAMask('collect', (5, 5))(torch.zeros(1, 25, 5, 5))
    msg = str(err.value)
    assert "'psamask_forward'" in msg and 'mmcv-full' in msg
    assert 'PSAMask' in msg and '\n' not in msg
    assert ext_loader.check_ops_exist()  # mmcv's own check finds it too
    from mmcv.utils import collect_env  # every tool logs it
    assert collect_env()['MMCV Compiler'].startswith('n/a')


def test_error_names_the_config_key_of_the_caller():
    pytest.importorskip('mmseg')
    from mmseg.models import build_segmentor
    if not is_stand_in():
        pytest.skip('mmcv has compiled ops here')
    norm = dict(type='BN', requires_grad=True)
    model = build_segmentor(dict(
        type='EncoderDecoder',
        backbone=dict(type='UNet', in_channels=3, base_channels=8,
                      num_stages=2, strides=(1, 1), enc_num_convs=(1, 1),
                      dec_num_convs=(1, ), downsamples=(True, ),
                      enc_dilations=(1, 1), dec_dilations=(1, ),
                      norm_cfg=norm),
        decode_head=dict(type='PSAHead', in_channels=8, in_index=1,
                         channels=8, mask_size=(16, 16), num_classes=3,
                         norm_cfg=norm)))
    note_model(model)
    with pytest.raises(CompiledOpUnavailable) as err:
        model.forward_dummy(torch.zeros(1, 3, 16, 16))
    msg = str(err.value)
    assert "'psamask_forward'" in msg, msg
    assert ('model.decode_head.psamask_collect in model.decode_head '
            '(PSAHead), a PSAMask') in msg
