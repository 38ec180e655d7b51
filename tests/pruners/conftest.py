import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

# mmrazor_ext first: it supplies mmcv's compiled-ops stand-in that
# mmrazor.models (through mmseg) needs when mmcv has no compiled ops
import mmrazor_ext  # noqa: E402,F401
