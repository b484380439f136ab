"""Unit tests for chapters/animations.py: the offline, labelled, stable animation player."""

import base64
import io
import re

import matplotlib
import pytest
from PIL import Image

from animations import _first_frame_size, _palette_png, animation_html

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
    assert '<img id="_anim_imgdemo" alt="a &quot;line&quot; rising" src=' in first
    assert '<input id="_anim_sliderdemo" aria-label="Frame"' in first
    assert "animdemo.next_frame()" in first
    # Valid HTML (the Nu checker runs on the built book in tests/test_valid_pages.py).
    assert first.startswith('<div class="animation-player">\n<style>'), "style sheet first"
    assert first.count("<style>") == 1 and first.rstrip().endswith("</div>")
    assert 'action="#n"' not in first and "language=" not in first


def test_animation_html_frames_are_palette_pngs_of_the_same_size():
    import base64
    import io

    from PIL import Image

    animation = small_animation()
    plain = animation.to_jshtml(default_mode="once")
    html = animation_html(small_animation(), "demo", alt="a line rising")
    pattern = r'frames\[\d+\] = "data:image/png;base64,([A-Za-z0-9+/=\\\n]+)"'
    before = [base64.b64decode(re.sub(r"[\\\n]", "", f)) for f in re.findall(pattern, plain)]
    after = [base64.b64decode(f) for f in re.findall(pattern, html)]
    assert len(after) == len(before) == 3
    for old, new in zip(before, after, strict=True):
        old_image, new_image = Image.open(io.BytesIO(old)), Image.open(io.BytesIO(new))
        assert new_image.mode == "P" and new_image.size == old_image.size
        # The same picture: every pixel within a few levels of matplotlib's.
        old_bytes = old_image.convert("RGB").tobytes()
        new_bytes = new_image.convert("RGB").tobytes()
        difference = [abs(a - b) for a, b in zip(old_bytes, new_bytes, strict=True)]
        assert max(difference) <= 24 and sum(difference) / len(difference) < 1


def test_animation_html_frame_has_a_src_and_the_frame_size():
    # figsize 2 x 3 inches at 40 dpi: 80 x 120 pixels, width and height different; the
    # <img> has the drawn size in CSS pixels, 96 an inch: 192 x 288.
    from matplotlib import pyplot as plt
    from matplotlib.animation import FuncAnimation

    fig, ax = plt.subplots(figsize=(2, 3), dpi=40)
    (line,) = ax.plot([0, 1], [0, 0])
    animation = FuncAnimation(fig, lambda i: line.set_ydata([0, i]), frames=2)
    plt.close(fig)
    html = animation_html(animation, "tall", alt="a line")
    img = re.search(r'<img id="_anim_imgtall"[^>]*>', html).group()
    assert 'src="data:image/gif;base64,' in img, img
    assert 'width="192" height="288"' in img, img
    frame = re.search(r'frames\[0\] = "data:image/png;base64,([^"]+)"', html).group(1)
    png = base64.b64decode(frame.replace("\\\n", ""))
    assert Image.open(io.BytesIO(png)).size == (80, 120)
    assert Image.open(io.BytesIO(png)).info["dpi"] == pytest.approx((40, 40), abs=0.01)


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
    assert "<link" not in html and "font-awesome" not in html, "Font Awesome's link is gone"
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


# -- What matplotlib's player must look like, and the frames it carries --------------------


def player_html(edit=None):
    """animation_html on a small animation whose matplotlib HTML ``edit`` changes first."""
    animation = small_animation()
    original = animation.to_jshtml
    animation.to_jshtml = lambda default_mode: (edit or (lambda h: h))(
        original(default_mode=default_mode)
    )
    return animation_html(animation, "Demo", alt='a "line" rising')


def test_the_player_markup_is_exactly_cleaned_up():
    html = player_html()
    assert html.startswith('<div class="animation-player">\n<style>\n')
    assert html.count("<style>") == 1 and html.endswith("</div>\n")
    assert html.count("<script>") == 2 and "language=" not in html and "<SCRIPT" not in html
    assert "action=" not in html and "XX" not in html
    assert 'alt="a &quot;line&quot; rising"' in html


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda h: re.sub(r'frames\[0\] = "data:image/png;base64,', 'frames[0] = "', h),
            "animation_html: no PNG first frame in matplotlib's HTML",
        ),
        (
            lambda h: h.replace(' action="#n"', ""),
            "animation_html: expected ' action=\"#n\"' once in matplotlib's HTML",
        ),
        (
            lambda h: h.replace('<script language="javascript">', "<script>", 1),
            "animation_html: expected matplotlib's two player scripts",
        ),
        (lambda h: h + "<style></style>", "animation_html: expected one <style>, found 2"),
    ],
    ids=["no PNG frame", "no action", "one script", "two styles"],
)
def test_a_player_unlike_matplotlib_s_gets_its_own_message(edit, message):
    with pytest.raises(RuntimeError) as error:
        player_html(edit)
    assert str(error.value) == message


@pytest.mark.parametrize(
    "data", [b"GIF89a" + bytes(40), b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dXXXX" + bytes(30)]
)
def test_a_first_frame_that_is_no_png_is_named(data):
    frame = f'frames[0] = "data:image/png;base64,{base64.b64encode(data).decode()}"'
    with pytest.raises(RuntimeError) as error:
        _first_frame_size(frame)
    assert str(error.value) == "animation_html: the first frame is not a PNG image"


def frame_png(html, index=0):
    match = re.search(rf'frames\[{index}\] = "data:image/png;base64,([^"]+)"', html)
    return base64.b64decode(match.group(1).replace("\\\n", ""))


def test_frames_are_optimised_256_colour_pngs():
    png = frame_png(player_html())
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.mode == "P" and len(image.getcolors()) <= 256
    unoptimised = io.BytesIO()
    image.save(unoptimised, format="PNG", optimize=False, dpi=image.info["dpi"])  # as kept
    assert len(png) < len(unoptimised.getvalue()), "the frame was not saved optimised"


def test_a_frame_with_transparency_keeps_it():
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 255))
    rgba.putpixel((0, 0), (0, 0, 255, 0))  # one transparent pixel
    data = io.BytesIO()
    rgba.save(data, format="PNG")
    frame = base64.b64encode(data.getvalue()).decode()
    out = Image.open(io.BytesIO(base64.b64decode(_palette_png(frame))))
    assert out.mode == "P"
    assert out.convert("RGBA").getpixel((0, 0))[3] == 0, "the transparent pixel lost its alpha"
    assert out.convert("RGBA").getpixel((4, 4)) == (255, 0, 0, 255)
