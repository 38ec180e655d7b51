"""What users take away from a run: the ONNX export of a model (dynamic
batch axis), runtime sessions (ONNX Runtime; OpenVINO when installed),
the check that a runtime computes what PyTorch computes, and model files
that load with ``torch.load(weights_only=True)``."""
from .equality import TOLERANCE, compare_outputs
from .onnx_export import (EXPORTERS, InferenceModel, OnnxExportError,
                          export_onnx)
from .runtimes import (BACKENDS, check_backends, installed_onnx_backends,
                       make_runner)
from .weight_files import (is_model_file, read_model_file, save_model_file,
                           structure_of)

__all__ = ['TOLERANCE', 'compare_outputs', 'EXPORTERS', 'InferenceModel',
           'OnnxExportError', 'export_onnx', 'BACKENDS', 'check_backends',
           'installed_onnx_backends', 'make_runner', 'is_model_file',
           'read_model_file', 'save_model_file', 'structure_of']
