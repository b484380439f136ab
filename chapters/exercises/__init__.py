"""The exercise checker: compares a learner's derivative with autograd, in plain words.

An ``Exercise`` holds a loss, the input to differentiate with respect to, and the
cases to check on; it computes autograd's gradient on every case once, when it is
made, so nothing a learner's code does later (rebinding a notebook global,
turning autograd off, changing a case in place) can change the reference.
``check_gradient`` runs the learner's function on every case with autograd off,
and names the one slip that explains how its answers differ from autograd's on
all of them.

An answer is the computer's, not the learner's, when its value depends on the
values of the loss: the checker runs it a second time with the exercise's loss,
and the functions that carry it, replaced by a different function, and a
derivative of the loss (by autograd, forward mode or finite differences) moves
while a hand formula does not. A third run, with the loss put back, tells an
answer that follows the loss from one that differs from run to run.

A ``FunctionExercise`` and ``check_autograd_function`` do the same for a
learner's own ``torch.autograd.Function``: its forward against a reference, and
the gradient its backward returns for each input against autograd's.

The package, one module per concern (docs/checker.md says more):

- ``gradient``: ``Exercise`` and ``check_gradient``;
- ``autograd_function``: ``FunctionExercise`` and ``check_autograd_function``;
- ``cases``: the exercise's own copies of its cases (integer tensors stay int64);
- ``running``: the learner's code in its own thread, with a time limit, an
  interrupt turned into words, and everything it changes put back;
- ``provenance``: is the answer computer-made;
- ``catalogue``: the slip catalogue, one table of names, tests and words. A slip
  is added there in one row (its docstring says how); a slip whose value only
  the exercise can compute has words and no test, and an exercise supplies its
  value with ``Exercise(..., slip_values={name: function of the case})``;
- ``words``: ``Verdict`` and the sentences.

Importing it has no side effects.
"""

from .autograd_function import FunctionExercise, check_autograd_function
from .gradient import Exercise, check_gradient
from .words import Verdict

__all__ = [
    "Exercise",
    "FunctionExercise",
    "Verdict",
    "check_autograd_function",
    "check_gradient",
]
