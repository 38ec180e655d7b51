"""Write a tiny ImageNet-style folder (ROOT/train/<class>/*.JPEG,
ROOT/val/<class>/*.JPEG) from scikit-learn's handwritten digits, to try
the ImageNet configs and scripts without ImageNet:

    python tools/make_tiny_imagenet.py data/tiny_imagenet --classes 3
    IMAGENET_ROOT=data/tiny_imagenet bash scripts/hybrid_search/\
run_hybrid_cifar_resnet18.sh test_search_geatpy_discrete_inference

The class folders are named like ImageNet's (``n0000000<digit>``); with
fewer than 1000 of them ``ImageNetFolder`` takes the classes from the
folder names. Images are the digits scaled to SIZE x SIZE colour JPEGs,
a seeded stratified split (the digits' own).
"""
import argparse
import os
import os.path as osp

import cv2  # not mmcv: writing a few JPEGs needs no torch
import numpy as np


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog='make_tiny_imagenet.py',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('root', help='folder to write (train/ and val/)')
    parser.add_argument('--classes', type=int, default=3,
                        help='digits 0..N-1 as classes (1-10)')
    parser.add_argument('--train-per-class', type=int, default=60)
    parser.add_argument('--val-per-class', type=int, default=10)
    parser.add_argument('--size', type=int, default=64,
                        help='side of the square images')
    args = parser.parse_args(argv)
    if not 1 <= args.classes <= 10:
        parser.error(f'--classes {args.classes}: the digits have 1 to 10')
    return args


def write_tiny_imagenet(root, classes=3, train_per_class=60,
                        val_per_class=10, size=64):
    """Write the folder; returns ``{split: number of images}``."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    counts = dict(train=0, val=0)
    for label in range(classes):
        images = digits.images[digits.target == label]
        need = train_per_class + val_per_class
        if len(images) < need:
            raise SystemExit(f'make_tiny_imagenet.py: error: digit {label} '
                             f'has {len(images)} images, {need} asked')
        order = np.random.RandomState(label).permutation(len(images))
        for split, picked in (('train', order[:train_per_class]),
                              ('val', order[train_per_class:need])):
            folder = osp.join(root, split, f'n{label:08d}')
            os.makedirs(folder, exist_ok=True)
            for i in picked:
                img = (images[i] * (255.0 / 16.0)).astype(np.uint8)
                img = cv2.resize(img, (size, size),
                                 interpolation=cv2.INTER_LINEAR)
                img = np.repeat(img[:, :, None], 3, axis=2)
                cv2.imwrite(osp.join(folder, f'digit_{i:04d}.JPEG'), img)
                counts[split] += 1
    return counts


def main(argv=None):
    args = parse_args(argv)
    counts = write_tiny_imagenet(args.root, args.classes,
                                 args.train_per_class, args.val_per_class,
                                 args.size)
    print(f'{args.root}: {args.classes} classes, {counts["train"]} train '
          f'and {counts["val"]} val images of {args.size}x{args.size}; use '
          f'IMAGENET_ROOT={args.root}')


if __name__ == '__main__':
    main()
