"""Unit tests for chapters/exercises/running.py."""

import sys

import pytest
import torch

from exercises import check_gradient
from exercises_examples import MEAN, right_mean


def test_an_answer_that_turns_autograd_off_cannot_break_the_next_check():
    def turns_autograd_off(w, x, y):
        torch.set_grad_enabled(False)
        torch.set_default_dtype(torch.float32)
        torch.manual_seed(123)
        return right_mean(w, x, y)

    state = torch.random.get_rng_state()
    assert check_gradient(MEAN, turns_autograd_off)
    assert torch.is_grad_enabled()
    assert torch.get_default_dtype() is torch.float32, "the default dtype is restored"
    assert torch.equal(torch.random.get_rng_state(), state)
    assert check_gradient(MEAN, right_mean, must_pass=True)


def test_a_profiler_that_was_running_still_runs_after_a_check():
    events = []

    def profiler(frame, event, arg):
        events.append(event)

    sys.setprofile(profiler)
    try:
        check_gradient(MEAN, right_mean)
        assert sys.getprofile() is profiler
    finally:
        sys.setprofile(None)


def test_a_right_answer_passes_under_a_profiler_which_keeps_running():
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        verdict = check_gradient(MEAN, right_mean)
        still = sys.getprofile()
    finally:
        profiler.disable()
    assert verdict, repr(verdict)
    assert still is profiler


def sets_default_device(w, x, y):
    answer = right_mean(w, x, y)
    torch.set_default_device("meta")
    return answer


KEPT = []


def keeps_an_inference_mode_guard(w, x, y):
    guard = torch.inference_mode()
    guard.__enter__()
    KEPT.append(guard)
    return right_mean(w, x, y)


def changes_global_settings(w, x, y):
    import threading

    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_anomaly_enabled(True, check_nan=False)
    torch.set_num_threads(1)
    sys.settrace(lambda *a: None)
    sys.setprofile(lambda *a: None)
    threading.settrace(lambda *a: None)
    return right_mean(w, x, y)


@pytest.mark.parametrize(
    "answer", [sets_default_device, keeps_an_inference_mode_guard, changes_global_settings]
)
def test_settings_an_answer_changes_do_not_outlive_the_check(answer):
    import threading

    before = (
        torch.get_default_device(),
        torch.is_inference_mode_enabled(),
        torch.are_deterministic_algorithms_enabled(),
        torch.is_anomaly_enabled(),
        torch.get_num_threads(),
        sys.gettrace(),
        sys.getprofile(),
        threading.gettrace(),
    )
    try:
        assert check_gradient(MEAN, answer)
        after = (
            torch.get_default_device(),
            torch.is_inference_mode_enabled(),
            torch.are_deterministic_algorithms_enabled(),
            torch.is_anomaly_enabled(),
            torch.get_num_threads(),
            sys.gettrace(),
            sys.getprofile(),
            threading.gettrace(),
        )
        assert after == before
        assert (
            torch.zeros(1).device.type == "cpu"
            and torch.ones(1, requires_grad=True).grad_fn is None
        )
        assert check_gradient(MEAN, right_mean, must_pass=True)
    finally:
        # A guard restores, when it is dropped, the modes of the thread that made it (the
        # checker's, where autograd is off): drop it in a thread of its own too.
        dropping = threading.Thread(target=KEPT.clear)
        dropping.start()
        dropping.join()
    assert torch.is_grad_enabled()


def test_deterministic_algorithms_are_put_back_with_their_warn_only_flag():
    def changes_them(w, x, y):
        torch.use_deterministic_algorithms(True, warn_only=False)
        return right_mean(w, x, y)

    torch.use_deterministic_algorithms(False, warn_only=True)
    try:
        assert check_gradient(MEAN, changes_them)
        assert not torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
    finally:
        torch.use_deterministic_algorithms(False)


def test_a_device_context_left_open_ends_with_the_answers_thread(monkeypatch):
    import threading

    failures = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    stacks = []

    def leaves_a_device_open(w, x, y):
        torch.device("meta").__enter__()
        return right_mean(w, x, y)

    def looks(w, x, y):
        stacks.append(torch._C._len_torch_function_stack())
        return right_mean(w, x, y)

    assert check_gradient(MEAN, leaves_a_device_open)
    assert check_gradient(MEAN, looks)
    assert failures == [] and stacks == [0] * 6, "3 cases, run twice"
