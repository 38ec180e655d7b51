"""OneShotHook: the runner's side of the OneShot algorithm."""
import os.path as osp
import time

from mmcv.parallel import is_module_wrapper
from mmcv.runner import HOOKS, Hook

from .evaluation import cpu_latency, rank
from .report import format_table, save_module, write_json


@HOOKS.register_module()
class OneShotHook(Hook):
    """Later prune steps, the subnet JSON, the exported model and the
    report of a :class:`OneShotAlgorithm` run.

    Files in ``work_dir`` (rank 0, written atomically): ``subnet`` (updated
    at every prune step, so a resumed run and ``tools/test.py --subnet``
    find it beside the checkpoints), ``exported`` (``torch.save`` of the
    physically pruned classifier) and ``report`` (JSON; its table goes to
    the log).

    Args:
        subnet (str): File name of the subnet JSON.
        exported (str): File name of the exported model.
        report (str): File name of the report JSON.
        latency_batch_sizes (tuple[int]): Batch sizes of the CPU latency
            measurement of the unpruned and the exported model.
        latency_time (float): Seconds spent timing each model per batch
            size (at least 5 runs each).
    """

    def __init__(self, subnet='subnet.json', exported='pruned_model.pth',
                 report='oneshot_report.json', latency_batch_sizes=(1, ),
                 latency_time=0.5):
        self.names = dict(subnet=subnet, exported=exported, report=report)
        self.latency_batch_sizes = tuple(latency_batch_sizes)
        self.latency_time = latency_time

    @staticmethod
    def algorithm(runner):
        model = runner.model
        return model.module if is_module_wrapper(model) else model

    def _path(self, runner, key):
        return osp.join(runner.work_dir, self.names[key])

    def _save_subnet(self, runner, algo):
        if rank() == 0:
            algo.pruner.save_subnet(algo.pruner.get_subnet(),
                                    self._path(runner, 'subnet'))

    def before_run(self, runner):
        algo = self.algorithm(runner)
        algo.hook_attached = True
        self._save_subnet(runner, algo)
        flops = algo.pruner.flops_params(algo.pruner.get_subnet())[0]
        runner.logger.info(
            f'OneShot: {int(algo.steps_done)}/{algo.num_steps} prune steps '
            f'done, FLOPs {flops / algo.full_flops:.1%} of the unpruned '
            f'model; build-time record: {algo.record}')

    def before_train_epoch(self, runner):
        algo = self.algorithm(runner)
        step = int(algo.steps_done)
        if step < algo.num_steps and \
                runner.epoch >= step * algo.step_interval:
            algo.prune_step(step, runner.optimizer)
            self._save_subnet(runner, algo)
            runner.logger.info(f'OneShot: prune step {step + 1}: '
                               f'{algo.record["steps"][-1]}')

    def after_run(self, runner):
        algo = self.algorithm(runner)
        if algo.data is not None:
            algo.record['after_finetune'] = algo.evaluate_val()
        if rank() != 0:
            return
        self._save_subnet(runner, algo)
        exported = algo.pruner.export().cpu()  # loadable without a GPU
        save_module(exported, self._path(runner, 'exported'))
        report = self.report(runner, algo, exported)
        write_json(report, self._path(runner, 'report'))
        runner.logger.info('OneShot report (val accuracy in %):\n' +
                           format_table(report) + '\nfiles in ' +
                           f'{runner.work_dir}: {report["files"]}')

    def report(self, runner, algo, exported) -> dict:
        flops, params = algo.pruner.flops_params(algo.pruner.get_subnet())
        t0 = time.time()
        latency = cpu_latency(
            dict(unpruned=algo.pruner.export(subnet={}), exported=exported),
            algo.pruner.input_shape, self.latency_batch_sizes,
            self.latency_time)
        for ms in latency.values():
            ms['speedup'] = ms['unpruned'] / ms['exported']
        latest = osp.join(runner.work_dir, 'latest.pth')
        checkpoint = osp.basename(osp.realpath(latest)) \
            if osp.exists(latest) else None
        rec = algo.record
        return dict(
            metric=algo.metric, mode=algo.mode,
            flops_target=algo.flops_target, ratio=algo.ratio,
            num_steps=algo.num_steps, pretrained=rec.get('pretrained'),
            subnet_file=rec.get('subnet_file'),
            accuracy={k: rec.get(k) for k in
                      ('before_pruning', 'after_pruning',
                       'after_recalibration', 'after_finetune')
                      if k != 'after_recalibration' or k in rec},
            flops=dict(unpruned=algo.full_flops, pruned=flops,
                       ratio=flops / algo.full_flops),
            params=dict(unpruned=algo.full_params, pruned=params,
                        ratio=params / algo.full_params),
            latency_ms=latency,
            latency_seconds=round(time.time() - t0, 2),
            steps=rec.get('steps'), epochs=runner.epoch,
            files=dict(checkpoint=checkpoint, subnet=self.names['subnet'],
                       exported=self.names['exported'],
                       report=self.names['report']))
