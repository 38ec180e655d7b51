import mmcv
import torch
import torch.distributed as dist
from mmcv.runner import get_dist_info


def single_device_test(model, data_loader, progress_scale=1,
                       end_line=True):
    """Run inference on this process; returns one result per image.

    Args:
        model: The (wrapped) classifier.
        data_loader: Its test loader.
        progress_scale (int): Images counted per image seen, for the
            progress bar (the world size when rank 0 reports for all);
            0 shows no bar.
        end_line (bool): End the bar's line (mmcls's ``DistEvalHook``
            prints a newline itself).
    """
    model.eval()
    results = []
    bar = mmcv.ProgressBar(len(data_loader.dataset)) if progress_scale \
        else None
    for data in data_loader:
        with torch.no_grad():
            result = model(return_loss=False, **data)
        results.extend(result)
        if bar is not None:
            bar.update(len(result) * progress_scale)
    if bar is not None and end_line:  # the log goes on below the bar
        bar.file.write('\n')
        bar.file.flush()
    return results


def multi_process_test(model, data_loader, tmpdir=None, gpu_collect=False,
                       end_line=True):
    """Distributed inference that works on CPU (gloo) and GPUs (NCCL).

    mmcv's and mmcls's ``multi_gpu_test`` build CUDA tensors to collect
    results; here each rank's results travel with ``all_gather_object``.
    The sampler must be mmcls's ``DistributedSampler`` without shuffling,
    which gives rank ``r`` the images ``r, r + world, ...``; results are put
    back in dataset order and the padding is dropped.

    Args:
        model: The wrapped model.
        data_loader: The distributed test loader.
        tmpdir, gpu_collect: Unused; kept for mmcv's ``test_fn`` signature.
        end_line (bool): See :func:`single_device_test`.

    Returns:
        list: Results of the whole dataset, on every rank.
    """
    rank, world_size = get_dist_info()
    results = single_device_test(
        model, data_loader, progress_scale=0 if rank else world_size,
        end_line=end_line)
    parts = [None] * world_size
    dist.all_gather_object(parts, results)
    ordered = [r for group in zip(*parts) for r in group]
    return ordered[:len(data_loader.dataset)]
