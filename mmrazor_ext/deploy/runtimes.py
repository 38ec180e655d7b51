"""Runtime sessions: an ONNX file (or the eager PyTorch model) as a
callable ``runner(x: Tensor) -> list of numpy arrays``, on CPU, with a
set number of threads.

Backends: ``'torch'`` (eager PyTorch), ``'onnxruntime'`` (a dependency)
and ``'openvino'`` (optional: used when installed; otherwise naming it is
a one-line error saying which pip package to install).
"""
import importlib.util
from typing import Callable, Dict, List, Sequence

import numpy as np
import torch
from torch import nn

from ..adapters import predict_forward
from ..utils import UserInputError

#: backend name -> the pip package that provides it (None: always there)
BACKENDS: Dict[str, str] = {'torch': None, 'onnxruntime': 'onnxruntime',
                            'openvino': 'openvino'}
#: backends that run an ONNX file
ONNX_BACKENDS = ('onnxruntime', 'openvino')

Runner = Callable[[torch.Tensor], List[np.ndarray]]


def backend_installed(name: str) -> bool:
    pkg = BACKENDS[name]
    return pkg is None or importlib.util.find_spec(pkg) is not None


def check_backends(names: Sequence[str]) -> List[str]:
    """``names`` if each is a known backend that is installed; a one-line
    :class:`UserInputError` naming the pip package otherwise."""
    names = list(names)
    for name in names:
        if name not in BACKENDS:
            raise UserInputError(f'backend {name!r} is not one of '
                                 f'{", ".join(BACKENDS)}')
        if not backend_installed(name):
            raise UserInputError(f'backend {name} is not installed: pip '
                                 f'install {BACKENDS[name]}')
    return names


def installed_onnx_backends() -> List[str]:
    """The ONNX backends this environment has (onnxruntime first)."""
    return [b for b in ONNX_BACKENDS if backend_installed(b)]


def _outputs(out) -> List[np.ndarray]:
    if isinstance(out, torch.Tensor):
        return [out.detach().cpu().numpy()]
    return [o.detach().cpu().numpy() for o in out]


def torch_runner(model: nn.Module) -> Runner:
    """Eager inference forward (``predict_forward``), no autograd."""
    model = model.cpu().eval()

    def run(x):
        with torch.no_grad():
            return _outputs(predict_forward(model, x))
    return run


def onnxruntime_session(path: str, threads: int = 1,
                        profile_prefix: str = None):
    """An ONNX Runtime CPU session on ``threads`` intra-op threads (one
    inter-op thread, sequential execution, all graph optimisations);
    profiling into ``profile_prefix``*.json when given (the latency
    table reads each node's kernel time from it)."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = \
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if profile_prefix:
        opts.enable_profiling = True
        opts.profile_file_prefix = profile_prefix
    return ort.InferenceSession(path, opts,
                                providers=['CPUExecutionProvider'])


def onnxruntime_runner(path: str, threads: int = 1) -> Runner:
    """A runner of :func:`onnxruntime_session`."""
    session = onnxruntime_session(path, threads)
    name = session.get_inputs()[0].name

    def run(x):
        return session.run(None, {name: x.numpy()})
    return run


def openvino_runner(path: str, threads: int = 1) -> Runner:
    """An OpenVINO CPU model compiled for ``threads`` inference threads,
    latency hint (one request at a time), float32 (on CPUs with bf16 /
    fp16 units OpenVINO would lower the precision by default)."""
    import openvino as ov
    core = ov.Core()
    compiled = core.compile_model(path, 'CPU', {
        'INFERENCE_NUM_THREADS': int(threads),
        'PERFORMANCE_HINT': 'LATENCY',
        'INFERENCE_PRECISION_HINT': 'f32'})
    request = compiled.create_infer_request()

    def run(x):
        result = request.infer({0: x.numpy()})
        return [np.asarray(result[o]) for o in compiled.outputs]
    return run


def make_runner(backend: str, model: nn.Module = None, onnx_path: str = None,
                threads: int = 1) -> Runner:
    """The runner of ``backend``: ``model`` for ``'torch'``, the ONNX file
    for the others."""
    check_backends([backend])
    if backend == 'torch':
        return torch_runner(model)
    if backend == 'onnxruntime':
        return onnxruntime_runner(onnx_path, threads)
    return openvino_runner(onnx_path, threads)
