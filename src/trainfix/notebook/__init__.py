"""Jupyter notebooks (``.ipynb``) in and out.

A notebook is turned into one Python program, :attr:`Notebook.source`: every
Python code cell in cell order, each preceded by a marker comment line
``# %% [trainfix cell N]``. IPython syntax that Python cannot parse is masked
line for line (:mod:`.ipython`); cells that are not Python are left out
(:mod:`.reader`).

After the engine has edited ``source``, :meth:`Notebook.render` maps it back
(:mod:`.program`): the placeholders are restored exactly and only the JSON
``source`` values of the cells whose code changed are spliced into the
original bytes (:mod:`.splice`, which finds them with :mod:`.jsontext`);
:meth:`Notebook.diff` shows that splice as a diff labelled by cell
(:mod:`.diff`). Nothing else is ever re-serialised.

Standard library only; no nbformat dependency. No I/O: bytes in, bytes out.
"""

from .errors import NotebookError, NotPythonNotebookError
from .program import Notebook
from .reader import parse_notebook

__all__ = [
    "NotPythonNotebookError",
    "Notebook",
    "NotebookError",
    "parse_notebook",
]
