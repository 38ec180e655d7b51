"""PruningHook: the runner's side of every pruning algorithm."""
import os.path as osp
import statistics
import time

from mmcv.parallel import is_module_wrapper
from mmcv.runner import HOOKS, Hook

from ..core import rewrap_model
from ..deploy.weight_files import save_model_file, structure_of
from ..utils import rank, write_json
from ..deploy.runtimes import installed_onnx_backends
from ..utils import UserInputError
from .latency import latency_rows, machine_load, runtime_latency
from .report import format_table

RECORD_KEY = 'pruning_record'  # in runner.meta['hook_msgs'], so in ckpts
# report rows shown only when their stage ran (no fine-tuning epoch, no
# BN recalibration, nothing merged), not as a row of dashes
_ONLY_WHEN_RUN = ('after_recalibration', 'after_finetune', 'merged')


@HOOKS.register_module()
class PruningHook(Hook):
    """Runs a pruning algorithm's steps from the runner and writes what
    the run leaves behind.

    - At the start of each epoch listed by the algorithm's
      ``step_epochs()``: a prune step (score, choose, mask). After the last
      one, unless the algorithm fine-tunes ``'masked'``, training moves to
      the physically pruned model: the optimizer follows it (state sliced)
      and a DDP wrapper is rebuilt on every rank.
    - Files in ``work_dir`` (rank 0, written atomically): ``subnet``
      (updated at every prune step, beside the checkpoints), ``exported``
      (the physically pruned classifier as a weights-only model file:
      its state dict, the config and the algorithm's structure, loaded by
      ``apis.load_pruned`` and ``tools/test.py``) and ``report`` (JSON;
      its table goes to the log).
    - The algorithm's record (accuracy per stage, steps) travels in the
      checkpoints' ``meta``, so a resumed run reports every stage.

    Args:
        subnet (str): File name of the subnet JSON.
        exported (str): File name of the exported model.
        report (str): File name of the report JSON.
        deploy (str): File name of the deploy model: the exported model
            with every BatchNorm that directly follows a conv / linear
            folded into it (the algorithm's ``deploy_model``; None: not
            written).
        fold_bn (bool): Write the deploy model and time it too (the
            report's ``latency_ms.batch_B.deploy``).
        latency_batch_sizes (tuple[int]): Batch sizes of the CPU latency
            measurement of the unpruned and the exported model.
        latency_time (float): Seconds spent timing each model per batch
            size and backend (at least 5 runs each). The report keeps the
            median, the interquartile range and whether the comparison is
            reliable (see :func:`compare_latency`).
        latency_threads (int): Threads of every backend while timing
            (None: PyTorch's count, ``OMP_NUM_THREADS``).
        latency_backends (list[str], optional): Runtimes timed beside
            eager PyTorch, on the models exported to ONNX (None:
            onnxruntime, and openvino when installed; ``[]``: eager only).
        pickled (bool): Write ``exported`` and ``deploy`` as pickled
            modules (``torch.save(module)``, loaded with
            ``weights_only=False``) instead of weights-only model files
            (``mmrazor_ext.deploy.weight_files``, rebuilt by
            ``mmrazor_ext.apis.load_pruned``).
    """

    #: ``kind`` of the ``exported`` model file.
    KIND = 'pruned'

    def __init__(self, subnet='subnet.json', exported='pruned_model.pth',
                 report='pruning_report.json', latency_batch_sizes=(1, ),
                 latency_time=0.5, deploy='deploy_model.pth', fold_bn=True,
                 latency_threads=1, latency_backends=None, pickled=False):
        self.names = dict(subnet=subnet, exported=exported, report=report)
        if fold_bn and deploy:
            self.names['deploy'] = deploy
        self.latency_batch_sizes = tuple(latency_batch_sizes)
        self.latency_time = latency_time
        self.latency_threads = latency_threads
        self.latency_backends = latency_backends
        self.pickled = pickled
        self._iter_seconds = []

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
        saved = ((runner.meta or {}).get('hook_msgs') or {}).get(RECORD_KEY)
        if saved:  # resumed: the stages measured before
            algo.record.update(saved)
        self._save_subnet(runner, algo)
        flops = algo.pruner.flops_params(algo.pruner.get_subnet())[0]
        done = int(algo.steps_done)
        model = ('the physically pruned model' if algo.is_exported else
                 'the masked model' if done else 'the unpruned model')
        runner.logger.info(
            f'{algo.NAME}: {done}/{algo.num_steps} prune steps done, FLOPs '
            f'{flops / algo.full_flops:.1%} of the unpruned model; '
            f'starting from {model}')

    def before_train_epoch(self, runner):
        algo = self.algorithm(runner)
        epochs = algo.step_epochs()
        step = int(algo.steps_done)
        if step < len(epochs) and runner.epoch >= epochs[step]:
            algo.prune_step(step, runner.optimizer)
            self._save_subnet(runner, algo)
            if runner.meta is not None:
                runner.meta.setdefault('hook_msgs', {})[RECORD_KEY] = \
                    algo.record
        if int(algo.steps_done) == len(epochs) and not algo.is_exported \
                and algo.finetune == 'pruned':
            self.switch(runner, algo)

    def before_train_iter(self, runner):
        self._t0 = time.perf_counter()

    def after_train_iter(self, runner):
        # forward + backward + step (the optimizer hook ran before this
        # one), data loading excluded; only once no step is left
        algo = self.algorithm(runner)
        if int(algo.steps_done) == algo.num_steps:
            self._iter_seconds.append(time.perf_counter() - self._t0)

    def switch(self, runner, algo):
        """Move training to the physically pruned model."""
        before = sum(p.numel() for p in algo.parameters())
        algo.switch_to_pruned(runner.optimizer)
        runner.model = rewrap_model(runner.model)
        runner.model.train()
        after = sum(p.numel() for p in algo.parameters())
        if runner.epoch >= runner.max_epochs:
            return  # no fine-tuning epoch (runner.max_epochs=0)
        count = f'{before} -> {after}' if after != before else f'{after}'
        runner.logger.info(f'{algo.NAME}: fine-tuning continues on the '
                           f'physically pruned model ({count} trained '
                           'parameters)')

    def after_run(self, runner):
        algo = self.algorithm(runner)
        if algo.data is not None and algo.do_evaluate and runner.epoch > 0:
            # no "after fine-tuning" row when no epoch was trained
            algo.record['after_finetune'] = algo.evaluate_val()
        if rank() != 0:
            return
        self._save_subnet(runner, algo)
        exported = algo.export_model()
        self.save_model(runner, algo, exported, 'exported', self.KIND)
        deploy = None
        if 'deploy' in self.names:
            deploy, pairs = algo.deploy_model(exported)
            self.save_model(runner, algo, deploy, 'deploy', 'deploy')
            self._folded = len(pairs)
        report = self.report(runner, algo, exported, deploy)
        write_json(report, self._path(runner, 'report'))
        files = ', '.join(f'{what} {name}' for what, name in
                          report['files'].items() if name)
        folded = f' ({report["bn_folded"]} BatchNorms folded into the ' \
            'deploy model)' if deploy is not None else ''
        runner.logger.info(f'{algo.NAME} report (val accuracy in %):\n' +
                           format_table(report) + f'\nfiles in '
                           f'{runner.work_dir}: {files}{folded}')

    def save_model(self, runner, algo, model, key, kind) -> None:
        """A weights-only model file (``pickled``: the pickled module)."""
        save_model_file(self._path(runner, key), model, structure_of(algo),
                        kind, algo.pruner.input_shape,
                        config=(runner.meta or {}).get('config'),
                        bn_folded=kind == 'deploy', pickled=self.pickled)

    def time_models(self, runner, models, input_shape) -> dict:
        """:func:`runtime_latency` of ``models`` eager and in the runtimes;
        a model that does not export to ONNX is timed eager only, with a
        warning naming the op."""
        backends = self.latency_backends
        if backends is None:
            backends = installed_onnx_backends()
        kwargs = dict(batch_sizes=self.latency_batch_sizes,
                      threads=self.latency_threads,
                      min_time=self.latency_time,
                      # ONNX Runtime folds BN itself: deploy == exported
                      onnx_models=('unpruned', 'exported'))
        try:
            return runtime_latency(models, input_shape,
                                   backends=['torch', *backends], **kwargs)
        except UserInputError as e:
            runner.logger.warning(f'runtime latency not measured: {e}')
            out = runtime_latency(models, input_shape, backends=['torch'],
                                  **kwargs)
            out['onnx'] = dict(error=str(e))
            return out

    def report(self, runner, algo, exported, deploy=None) -> dict:
        flops, params = algo.pruner.count(exported)  # the model it describes
        t0 = time.time()
        models = dict(unpruned=algo.unpruned_model() if hasattr(
            algo, 'unpruned_model') else algo.pruner.export(subnet={}),
            exported=exported)
        if deploy is not None:
            models['deploy'] = deploy
        timing = self.time_models(runner, models, algo.pruner.input_shape)
        load = machine_load()  # over the last minute: the timing's
        latency = latency_rows(timing['backends'].pop('torch'), load)
        runtime = {b: latency_rows(t, load)
                   for b, t in timing['backends'].items()}
        latest = osp.join(runner.work_dir, 'latest.pth')
        checkpoint = osp.basename(osp.realpath(latest)) \
            if osp.exists(latest) else None
        rec = algo.record
        return dict(
            algorithm=algo.NAME, **algo.report_fields(),
            num_steps=algo.num_steps, pretrained=rec.get('pretrained'),
            subnet_file=rec.get('subnet_file'), finetune=algo.finetune,
            stages=[list(s) for s in algo.STAGES],
            accuracy={k: rec.get(k) for k, _ in algo.STAGES
                      if k in rec or k not in _ONLY_WHEN_RUN},
            flops=dict(unpruned=algo.full_flops, pruned=flops,
                       ratio=flops / algo.full_flops),
            params=dict(unpruned=algo.full_params, pruned=params,
                        ratio=params / algo.full_params),
            latency_ms=latency, runtime_latency_ms=runtime,
            latency_threads=timing['threads'], latency_load=load,
            onnx=timing.get('onnx'),
            finetune_seconds_per_iter=(
                statistics.median(self._iter_seconds)
                if self._iter_seconds else None),
            latency_seconds=round(time.time() - t0, 2),
            steps=rec.get('steps'), epochs=runner.epoch,
            bn_folded=getattr(self, '_folded', None),
            files=dict(checkpoint=checkpoint, subnet=self.names['subnet'],
                       exported=self.names['exported'],
                       report=self.names['report'],
                       deploy=self.names.get('deploy')))


@HOOKS.register_module()
class OneShotHook(PruningHook):
    """:class:`PruningHook` writing ``oneshot_report.json`` (the name
    OneShot configs and scripts use)."""

    def __init__(self, report='oneshot_report.json', **kwargs):
        super().__init__(report=report, **kwargs)
