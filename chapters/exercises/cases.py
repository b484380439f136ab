"""The cases an exercise is checked on: its own copies, that nothing outside can change."""

import torch


def _float64_cases(cases):
    """Own copies of the cases, that nothing outside can change in place.

    Every input becomes a float64 tensor, except an integer tensor (labels, the
    indices of an embedding), which stays an integer one, as int64: a loss and an
    answer receive it as the chapter made it. Numbers and lists are float64.
    """
    return [{key: _own(value) for key, value in case.items()} for case in cases]


def _own(value):
    if isinstance(value, torch.Tensor) and not (value.is_floating_point() or value.is_complex()):
        if value.dtype != torch.bool:
            return value.detach().to(torch.int64).clone()
    return torch.as_tensor(value, dtype=torch.float64).detach().clone()


def _copies(cases):
    return [{key: value.clone() for key, value in case.items()} for case in cases]
