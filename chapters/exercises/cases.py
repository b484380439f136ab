"""The cases an exercise is checked on: its own copies, that nothing outside can change."""

import torch


def _float64_cases(cases):
    """Own float64 copies of the cases: nothing outside can change them in place."""
    return [
        {
            key: torch.as_tensor(value, dtype=torch.float64).detach().clone()
            for key, value in case.items()
        }
        for case in cases
    ]


def _copies(cases):
    return [{key: value.clone() for key, value in case.items()} for case in cases]
