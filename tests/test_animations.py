"""Unit tests for chapters/animations.py: the offline, labelled, stable animation player."""

import re

import matplotlib
import pytest

from animations import animation_html

matplotlib.use("Agg")


def small_animation():
    from matplotlib import pyplot as plt
    from matplotlib.animation import FuncAnimation

    fig, ax = plt.subplots(figsize=(2, 2), dpi=40)
    (line,) = ax.plot([0, 1], [0, 0])
    animation = FuncAnimation(fig, lambda i: line.set_ydata([0, i]), frames=3)
    plt.close(fig)
    return animation


def test_animation_html_is_stable_self_contained_and_labelled():
    first = animation_html(small_animation(), "demo", alt='a "line" rising')
    second = animation_html(small_animation(), "demo", alt='a "line" rising')
    assert first == second, "two runs must store the same output for nbval"
    assert "http" not in first, "the player must load nothing from the network"
    assert 'class="fa' not in first, "Font Awesome icons come from a CDN"
    assert '<img id="_anim_imgdemo" alt="a &quot;line&quot; rising">' in first
    assert '<input id="_anim_sliderdemo" aria-label="Frame"' in first
    assert "animdemo.next_frame()" in first


def test_animation_html_draws_each_frame_once_after_tight_layout():
    animation = small_animation()
    fig = animation._fig
    fig.tight_layout()
    draws = []
    fig.canvas.mpl_connect("draw_event", draws.append)
    animation_html(animation, "demo", alt="a line rising")
    assert len(draws) == 3, f"3 frames, {len(draws)} draws"


def test_animation_html_plays_once_and_draws_its_buttons_inline():
    html = animation_html(small_animation(), "Demo_2", alt="a line rising")
    assert html.split("<script", 1)[0].strip() == "", "nothing is left of the Font Awesome link"
    once = re.search(r'<input type="radio" name="state" value="once"[^>]*>', html)
    assert once and "checked" in once.group(), "the player starts in 'Once' mode, not 'Loop'"
    play = (
        "<svg viewBox='0 0 16 16' width='14' height='14' fill='currentColor' aria-hidden='true'>"
        "<polygon points='3,3 11,8 3,13'/></svg>"
    )
    assert re.search(
        r'aria-label="Play" onclick="animDemo_2.play_animation\(\)">\s*' + re.escape(play), html
    )


@pytest.mark.parametrize(
    "name, alt, message",
    [
        ("two words", "alt", "name must be letters, digits and underscores, got 'two words'"),
        ("ok", " ", "alt must describe the animation in words"),
    ],
)
def test_animation_html_explains_bad_input(name, alt, message):
    with pytest.raises(ValueError) as error:
        animation_html(small_animation(), name, alt=alt)
    assert str(error.value) == f"animation_html: {message}"


def test_animation_html_says_when_matplotlib_s_player_is_not_what_it_expects():
    animation = small_animation()
    animation.to_jshtml = lambda default_mode: "<div>no player</div>"
    with pytest.raises(RuntimeError) as error:
        animation_html(animation, "demo", alt="a line rising")
    assert str(error.value) == (
        "animation_html: expected one player in matplotlib's HTML, found 0"
    )
