# The main job in 3 steps: 1/3, 2/3 and all of the 50% FLOPs budget removed
# at epochs 0, 2 and 4 (each step re-scores the fine-tuned model; channels
# pruned before stay pruned), fine-tuning to epoch 8.
_base_ = ['./one-shot-cdp_cifar-resnet20_1xb64_digits.py']
algorithm = dict(num_steps=3, step_interval=2)
runner = dict(max_epochs=8)
