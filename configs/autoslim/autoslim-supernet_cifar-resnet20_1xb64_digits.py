# AutoSlim, stage 1 of 3: train ResNet-20 on the embedded digits as a
# slimmable supernet. Each iteration trains the widest net, the narrowest
# (keep_ratios[0] of every channel space) and 2 random widths; channels are
# kept from the front, so every width shares its first channels.
#   tools/train.py <this config>
_base_ = ['../resnet/cifar-resnet20_1xb64_digits.py']
widths = [i / 8 for i in range(2, 9)]  # 2/8 ... 8/8 of a space's channels
algorithm = dict(
    type='AutoSlim',
    architecture=dict(type='MMClsArchitecture', model={{_base_.model}}),
    pruner=dict(type='AutoSlimPruner', input_shape=(3, 32, 32),
                keep_ratios=widths),
    retraining=False,
    num_sample_training=4,
    input_shape=(3, 32, 32),  # for AutoSlim's FLOPs table
    # shared BN statistics do not fit every width: normalise each batch
    # with its own statistics when evaluating
    bn_training_mode=True)
# AutoSlim.train_step runs backward and the optimizer step itself
optimizer_config = None
runner = dict(max_epochs=10)
