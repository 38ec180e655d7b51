import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.develop import develop

# Run at interpreter start from site-packages (see _mmrazor_ext_startup.py):
# mmrazor and mmseg then import in any order beside an mmcv without ops.
PTH = 'mmrazor_ext.pth'


def read_version():
    scope = {}
    with open('mmrazor_ext/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


class BuildPyWithPth(build_py):
    """Wheels and regular installs: the .pth beside the package."""

    def run(self):
        super().run()
        self.copy_file(PTH, osp.join(self.build_lib, PTH))


class DevelopWithPth(develop):
    """Editable installs (``pip install -e .``): the .pth into
    site-packages, beside the link to the checkout."""

    def run(self):
        super().run()
        if not self.uninstall:
            shutil.copy(PTH, osp.join(self.install_dir, PTH))


setup(
    name='mmrazor_ext',
    version=read_version(),
    description='Channel pruning, ratio search and layer fusion for mmcls',
    packages=find_packages(include=['mmrazor_ext', 'mmrazor_ext.*']),
    py_modules=['_mmrazor_ext_startup'],
    cmdclass=dict(build_py=BuildPyWithPth, develop=DevelopWithPth),
    python_requires='>=3.8',
    # The OpenMMLab stack is installed by requirements.txt (mmcv needs a
    # special build); listing it here would make pip replace mmcv-full.
    install_requires=['numpy', 'scikit-learn', 'matplotlib'],
)
