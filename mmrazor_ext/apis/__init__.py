from .build import build_model
from .config_checks import (UserInputError, check_checkpoint,
                            check_data_paths, check_eval_metrics,
                            check_resume_from, check_work_dir, load_config)
from .dist_utils import auto_device, init_dist_any_device, setup_device
from ..engine.test_loops import multi_process_test, single_device_test
from .model_loading import build_for_inference, load_pruned
from .tasks import build_dataloader, build_dataset, default_metrics
from .train import train_model, wrap_model

__all__ = [
    'build_model', 'UserInputError', 'check_checkpoint', 'check_data_paths',
    'check_eval_metrics', 'check_resume_from', 'check_work_dir',
    'load_config',
    'auto_device', 'init_dist_any_device', 'multi_process_test',
    'setup_device', 'single_device_test', 'train_model', 'wrap_model',
    'build_dataset', 'build_dataloader', 'default_metrics',
    'build_for_inference', 'load_pruned'
]
