"""Design commands that train what they need first, run in a copy of the
repository with a ``.venv/bin/python`` stub that records each call (the
tools themselves run in the tests of their own)."""
import os
import shutil
import subprocess

from tool_runner import ROOT, recorded, stub_python

FUSION = 'scripts/fusion_merge/run_fusion_cifar_resnet18.sh'
CDP18 = 'tests/simple_pruning/CDP/visual_cdp_score_resnet18.sh'
RESNET18 = 'configs/fusion/cifar-resnet18_1xb64_digits.py'
TRAINED = 'work_dirs/cifar-resnet18_1xb64_digits/epoch_3.pth'


def run_copy(tmp_path, script, *args):
    """``script`` run in a copy of the repository (scripts only); the
    calls of its Python, ``(cwd, arguments...)`` each."""
    root = tmp_path / 'repo'
    if not root.exists():
        for name in (FUSION, CDP18):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(os.path.join(ROOT, name), root / name)
        stub_python(root / '.venv/bin/python', tmp_path / 'calls')
    shutil.rmtree(tmp_path / 'calls')
    (tmp_path / 'calls').mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHON', 'PRETRAINED', 'CHECKPOINT', 'WORK_DIR')}
    out = subprocess.run(['bash', str(root / script), *args], env=env,
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return root, [call[1:] for call in recorded(tmp_path / 'calls')]


def test_fusion_init_trains_the_classifier_first(tmp_path):
    root, calls = run_copy(tmp_path, FUSION, 'test_fusion_init')
    train, fuse = calls
    assert train == ['tools/train.py', RESNET18, '--work-dir',
                     os.path.dirname(TRAINED), '--seed', '0']
    assert fuse[:2] == ['tools/train.py', 'configs/fusion/fusion-blocks_'
                        'cifar-resnet18_1xb64_digits.py']
    assert f'algorithm.pretrained={TRAINED}' in fuse
    assert 'runner.max_epochs=0' in fuse
    # once trained, it fuses only; and the CDP scores of ResNet-18 use the
    # same trained model
    (root / TRAINED).parent.mkdir(parents=True)
    (root / TRAINED).write_bytes(b'weights')
    _, calls = run_copy(tmp_path, FUSION, 'test_fusion_init')
    assert [c[0] for c in calls] == ['tools/train.py']
    _, [score] = run_copy(tmp_path, CDP18)
    assert score[:3] == ['tools/visualize_scores.py', 'tests/simple_pruning/'
                         'CDP/cdp-score_cifar-resnet18_1xb64_digits.py',
                         'CDPMetric']
    assert score[score.index('--checkpoint') + 1] == TRAINED


def test_cdp_scores_of_resnet18_train_it_first(tmp_path):
    _, (train, score) = run_copy(tmp_path, CDP18)
    assert train == ['tools/train.py', RESNET18, '--work-dir',
                     os.path.dirname(TRAINED), '--seed', '0']
    assert score[0] == 'tools/visualize_scores.py'
