"""Tools the chapters use but do not teach.

The lessons themselves (forward pass, derivation, backward pass) live in the
notebooks, in plain sight. This module holds only the plumbing around them:

- ``numerical_gradient``: central finite differences in float64, the third
  witness next to the hand derivation and autograd;
- ``animation_html``: a matplotlib animation as self-contained HTML with a
  stable id, so the stored notebook output is the same on every run.

Importing it has no side effects.
"""

import re

import torch

__all__ = ["animation_html", "numerical_gradient"]


def numerical_gradient(f, x, eps=1e-6):
    """Estimate the gradient of the scalar function ``f`` at ``x``.

    Each entry of ``x`` is nudged by ``+eps`` and ``-eps`` in turn and the
    slope ``(f(x + eps) - f(x - eps)) / (2 eps)`` is recorded. The work is
    done in float64, where this estimate is good to about 1e-8.

    ``f`` takes a tensor shaped like ``x`` and returns a one-element tensor
    (or a Python number). The result has the shape of ``x``, in float64.
    """
    if not callable(f):
        raise TypeError(f"numerical_gradient: f must be a function, got {type(f).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"numerical_gradient: x must be a torch.Tensor, got {type(x).__name__}"
        )
    if not (x.is_floating_point() and torch.isfinite(x).all()):
        raise ValueError(
            f"numerical_gradient: x must hold finite floating-point numbers, got {x}"
        )
    x = x.detach().to(torch.float64)
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


_PLAYER_ID = re.compile(r'id="_anim_img([0-9a-f]{32})"')
_FONT_AWESOME_LINK = re.compile(r"<link[^>]*font-awesome[^>]*>")
# matplotlib's player draws its buttons with Font Awesome, fetched from a CDN.
# Plain characters need nothing from the network.
_BUTTON_ICONS = {
    "fa-minus": "\u2212",  # minus sign
    "fa-fast-backward": "\u23ee",  # first frame
    "fa-step-backward": "\u23f4",  # previous frame (small left triangle)
    "fa-play fa-flip-horizontal": "\u25c0",  # play backwards
    "fa-pause": "\u23f8",
    "fa-play": "\u25b6",
    "fa-step-forward": "\u23f5",  # next frame (small right triangle)
    "fa-fast-forward": "\u23ed",  # last frame
    "fa-plus": "+",
}


def animation_html(animation, name, alt):
    """Return ``animation`` as HTML that plays in a static page.

    matplotlib's ``to_jshtml`` embeds every frame and the player's script in
    the page itself (no kernel needed). Three things are changed so that the
    page works offline, reads well with a screen reader, and is the same on
    every run (nbval compares stored outputs):

    - the random player id becomes ``name``;
    - the frame gets ``alt`` as its text, the slider a label;
    - the Font Awesome icons, which come from a CDN, become plain characters.
    """
    if not (isinstance(name, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name)):
        raise ValueError(
            f"animation_html: name must be letters, digits and underscores, got {name!r}"
        )
    if not (isinstance(alt, str) and alt.strip()):
        raise ValueError("animation_html: alt must describe the animation in words")
    html = animation.to_jshtml(default_mode="once")
    ids = set(_PLAYER_ID.findall(html))
    if len(ids) != 1:
        raise RuntimeError(
            f"animation_html: expected one player in matplotlib's HTML, found {len(ids)}"
        )
    html = html.replace(ids.pop(), name)
    html = _FONT_AWESOME_LINK.sub("", html)
    for icon, text in _BUTTON_ICONS.items():
        html = html.replace(f'<i class="fa {icon}"></i>', text)
    alt_text = alt.replace("&", "&amp;").replace('"', "&quot;")
    html = html.replace(
        f'<img id="_anim_img{name}">', f'<img id="_anim_img{name}" alt="{alt_text}">'
    )
    return html.replace(
        f'<input id="_anim_slider{name}"',
        f'<input id="_anim_slider{name}" aria-label="Frame"',
    )
