from setuptools import find_packages, setup


def read_version():
    scope = {}
    with open('mmrazor_ext/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmrazor_ext',
    version=read_version(),
    description='Channel pruning, ratio search and layer fusion for mmcls',
    packages=find_packages(include=['mmrazor_ext', 'mmrazor_ext.*']),
    python_requires='>=3.8',
    # The OpenMMLab stack is installed by requirements.txt (mmcv needs a
    # special build); listing it here would make pip replace mmcv-full.
    install_requires=['numpy', 'scikit-learn', 'matplotlib'],
)
