"""Central finite differences: the third witness, next to the hand derivation and autograd.

Importing it has no side effects.
"""

import torch

__all__ = ["numerical_gradient"]


def numerical_gradient(f, x, eps=1e-6):
    """Estimate the gradient of the scalar function ``f`` at ``x``.

    Each entry of ``x`` is nudged by ``+eps`` and ``-eps`` in turn and the
    slope ``(f(x + eps) - f(x - eps)) / (2 eps)`` is recorded. The work is
    done in float64, where this estimate is good to about 1e-8.

    ``f`` takes a tensor shaped like ``x`` and returns a one-element tensor
    (or a Python number). The result has the shape of ``x``, in float64.
    ``x`` itself is never written to: the nudges go into a copy of it.
    """
    if not callable(f):
        raise TypeError(f"numerical_gradient: f must be a function, got {type(f).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"numerical_gradient: x must be a torch.Tensor, got {type(x).__name__}")
    if not (x.is_floating_point() and torch.isfinite(x).all()):
        raise ValueError(f"numerical_gradient: x must hold finite floating-point numbers, got {x}")
    x = x.detach().to(torch.float64, copy=True).contiguous()
    grad = torch.zeros_like(x)
    flat_x, flat_grad = x.view(-1), grad.view(-1)
    for i in range(flat_x.numel()):
        original = flat_x[i].item()
        flat_x[i] = original + eps
        up = _scalar(f(x))
        flat_x[i] = original - eps
        down = _scalar(f(x))
        flat_x[i] = original
        flat_grad[i] = (up - down) / (2 * eps)
    return grad


def _scalar(value):
    """``value`` as a Python float, or a clear error if it is not one number."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(
                "numerical_gradient: f must return a single number (a loss), "
                f"got a tensor of shape {tuple(value.shape)}; did you forget .sum()?"
            )
        return value.item()
    return float(value)
