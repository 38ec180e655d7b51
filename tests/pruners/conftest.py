# mmrazor_ext first: it supplies mmcv's compiled-ops stand-in that
# mmrazor.models (through mmseg) needs when mmcv has no compiled ops
import mmrazor_ext  # noqa: F401
