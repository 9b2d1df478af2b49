"""The analysis: pure passes over one module's syntax tree, each in its own module.

scope (what names are bound to) → evidence (which expressions are certainly
Keras models) → gradients (what a gradient differentiates) → tapes and steps
(which bodies are training, evaluation or prediction contexts) → calls (a
call's `training` argument, and whether its model is trained there) →
contexts (the walk that meets every call in a context) → helpers (functions
called from contexts). The facts handed to the rules are in `sites`; the
project index (`project`) answers what a name imported from another module is.

Below the passes: `keras_names` (canonical Keras paths), `keys` (a model's
identity), `syntax` (small readers of expressions), `targets` (what a callee
resolves to), `module_facts` (per-class weights and stores), `callees`
(what a called function or class is). The order is an import-linter contract
in pyproject.toml.
"""
