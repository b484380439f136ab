"""Unit tests for chapters/finite_differences.py: central differences and bad input."""

import pytest
import torch

from finite_differences import numerical_gradient


def test_numerical_gradient_matches_a_known_derivative():
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda v: (v**3).sum(), x)
    assert grad.dtype == torch.float64 and grad.shape == x.shape
    torch.testing.assert_close(grad, 3 * x.double() ** 2, rtol=1e-7, atol=1e-7)


def test_numerical_gradient_leaves_its_input_alone():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    numerical_gradient(lambda v: (v**2).sum(), x)
    assert x.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "f, x, message",
    [
        (lambda v: v.sum(), [1.0, 2.0], "x must be a torch.Tensor, got list"),
        ("not a function", torch.ones(2), "f must be a function, got str"),
        (lambda v: v.sum(), torch.ones(2, dtype=torch.int64), "finite floating-point"),
        (lambda v: v.sum(), torch.tensor([1.0, float("nan")]), "finite floating-point"),
    ],
)
def test_numerical_gradient_explains_bad_input(f, x, message):
    with pytest.raises((TypeError, ValueError), match=message):
        numerical_gradient(f, x)


def test_an_f_that_returns_no_single_number_is_told_what_a_loss_is():
    with pytest.raises(ValueError) as error:
        numerical_gradient(lambda v: v**2, torch.ones(2))
    assert str(error.value) == (
        "numerical_gradient: f must return a single number (a loss), "
        "got a tensor of shape (2,); did you forget .sum()?"
    )


def test_numerical_gradient_leaves_its_input_alone_when_f_raises():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = x * 3

    def fails_at_the_second_entry(v):
        if v[1] != 2.0:
            raise ValueError("no")
        return v.sum()

    with pytest.raises(ValueError, match="no"):
        numerical_gradient(fails_at_the_second_entry, x)
    assert x.tolist() == [1.0, 2.0]
    y.sum().backward()  # x was not modified in place, so autograd still works through it
    assert x.grad.tolist() == [3.0, 3.0]


def test_numerical_gradient_takes_a_non_contiguous_input():
    w = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=torch.float64)
    assert not w.T.is_contiguous()
    grad = numerical_gradient(lambda v: (v * torch.arange(6.0).reshape(3, 2)).sum(), w.T)
    torch.testing.assert_close(grad, torch.arange(6.0, dtype=torch.float64).reshape(3, 2))
    assert w.T.tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]


def test_numerical_gradient_takes_an_f_that_returns_a_python_number():
    grad = numerical_gradient(lambda v: float((v**2).sum()), torch.tensor([1.5, -2.0]))
    torch.testing.assert_close(grad, torch.tensor([3.0, -4.0], dtype=torch.float64))
