"""tools/train.py on ImageNet-style class folders (ImageNetFolder): fewer
than 1000 classes, no worker processes, an empty folder, an unreadable
image met during training."""
from tool_runner import load_tool, run_main, tiny_config, user_error


def folder_config(tmp_path, root, extra=''):
    """ResNet-20 at 16x16 on the class folders under ``root``, read in this
    process although the config asks for persistent workers."""
    test = [dict(type='LoadImageFromFile'),
            dict(type='Normalize', mean=[80.0] * 3, std=[110.0] * 3,
                 to_rgb=False),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img'])]
    train = test[:3] + [dict(type='ToTensor', keys=['gt_label']),
                        dict(type='Collect', keys=['img', 'gt_label'])]
    split = dict(type='ImageNetFolder', pipeline=test)
    data = dict(_delete_=True, samples_per_gpu=8, workers_per_gpu=0,
                persistent_workers=True,
                train=dict(split, data_prefix=f'{root}/train',
                           pipeline=train),
                val=dict(split, data_prefix=f'{root}/val'),
                test=dict(split, data_prefix=f'{root}/val'))
    return tiny_config(tmp_path / 'folders.py',
                       extra=f'data = {data!r}\n{extra}')


def tiny_folder(root, classes=3):
    load_tool('make_tiny_imagenet').main(
        [str(root), '--classes', str(classes), '--train-per-class', '4',
         '--val-per-class', '2', '--size', '16'])
    return root


def test_three_classes_without_worker_processes(tmp_path):
    root = tiny_folder(tmp_path / 'imagenet')
    work = tmp_path / 'work'
    log = run_main('train', [folder_config(tmp_path, root),
                             '--work-dir', work])
    assert f'ImageNetFolder {root}/train: 3 class folders, not ' \
        "ImageNet's 1000: the classes are the folder names" in log
    assert 'Epoch(val) [1]' in log and (work / 'epoch_1.pth').is_file()
    # 2 iterations, logged every 4: the loss still shows once an epoch
    assert 'Epoch [1][2/2]' in log and 'loss: ' in log


def test_empty_folder_is_one_line(tmp_path):
    root = tmp_path / 'imagenet'
    for split in ('train/n01', 'val/n01'):
        (root / split).mkdir(parents=True)
    line = user_error('train', [folder_config(tmp_path, root),
                                '--work-dir', tmp_path / 'work'])
    assert line == (f'train.py: error: data.train.data_prefix={root}/train '
                    f'holds no image: expected {root}/train/<class>/<image> '
                    'with one of .jpg, .jpeg, .png, .ppm, .bmp, .pgm, .tif')
    assert not (tmp_path / 'work').exists()


def test_unreadable_image_met_in_training_is_one_line(tmp_path):
    root = tiny_folder(tmp_path / 'imagenet', classes=2)
    broken = root / 'train' / 'n00000001' / 'broken.JPEG'
    broken.write_bytes(b'\xff\xd8 not a JPEG')
    line = user_error('train', [folder_config(tmp_path, root),
                                '--work-dir', tmp_path / 'work'])
    assert line == (f'train.py: error: image {broken} cannot be read '
                    f"(ImageNetFolder {root}/train); set on_unreadable="
                    "'skip' in the data set config to skip such images")
