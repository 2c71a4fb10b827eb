"""Explorers shared by the chapters.

Two kinds, because the book is read two ways:

* :func:`explorer`: ipywidgets sliders that call a plotting function, for the live
  notebook (JupyterLab with the ``.venv`` kernel).
* :func:`frame_player`: a self-contained HTML slider over pre-computed frames (PNG
  images embedded as data URIs, a few lines of inline JavaScript, no CDN), which still
  works in the static HTML book where there is no kernel.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import numbers
from typing import Any, Callable, Sequence

__all__ = ["explorer", "frame_player", "figure_png"]

_ids = itertools.count()


def figure_png(fig: Any, *, dpi: int = 80) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def frame_player(
    make_figure: Callable[[Any], Any],
    values: Sequence[Any],
    *,
    label: str,
    fmt: Callable[[Any], str] = str,
    start: int = 0,
    dpi: int = 80,
):
    """A slider over pre-rendered frames that works without a kernel.

    Parameters
    ----------
    make_figure : callable
        ``make_figure(value) -> matplotlib.figure.Figure`` for one frame.
    values : sequence
        The parameter values, one frame each.
    label : str
        Name of the parameter shown next to the slider (e.g. ``"temperature T"``).
    fmt : callable
        Formats a value for display.
    start : int
        Index of the frame shown first.

    Returns
    -------
    IPython.display.HTML
        Self-contained HTML (inline images and script, nothing loaded from elsewhere).
    """
    from IPython.display import HTML

    values = list(values)
    if not values:
        raise ValueError("values must hold at least one value (one frame each), got none")
    if isinstance(start, bool) or not isinstance(start, numbers.Integral) or not 0 <= start < len(values):
        raise ValueError(f"start must be an index in [0, {len(values)}), got {start!r}")
    frames = [base64.b64encode(figure_png(make_figure(v), dpi=dpi)).decode() for v in values]
    uid = f"dsmlib-player-{next(_ids)}"
    labels = [html.escape(fmt(v)) for v in values]
    imgs = "".join(
        f'<img src="data:image/png;base64,{f}" alt="{html.escape(label)} = {lab}" '
        f'style="max-width:100%;display:{"block" if i == start else "none"}">'
        for i, (f, lab) in enumerate(zip(frames, labels))
    )
    opts = ",".join(f'"{lab}"' for lab in labels)
    return HTML(
        f'<div id="{uid}" class="dsmlib-player">'
        f'<label>{html.escape(label)}: <input type="range" min="0" max="{len(frames) - 1}" '
        f'value="{start}" step="1" style="width:60%;vertical-align:middle"> '
        f'<output>{labels[start]}</output></label>{imgs}'
        f"<script>(function(){{var r=document.getElementById('{uid}');"
        f"var s=r.querySelector('input'),o=r.querySelector('output'),im=r.querySelectorAll('img'),L=[{opts}];"
        f"s.addEventListener('input',function(){{for(var i=0;i<im.length;i++)im[i].style.display=(i==s.value)?'block':'none';"
        f"o.textContent=L[s.value];}});}})();</script></div>"
    )


def explorer(plot: Callable[..., Any], **controls: Any):
    """Live ipywidgets explorer: ``interact(plot, **controls)`` with continuous_update off.

    ``controls`` are ipywidgets widgets or abbreviations accepted by ``interact``.
    In the built HTML (no kernel) only the last drawn state is visible; pair it with a
    :func:`frame_player`. Tag the cell ``nbval-ignore-output``.
    """
    import ipywidgets as w

    return w.interactive(plot, {"manual": False}, **controls)
