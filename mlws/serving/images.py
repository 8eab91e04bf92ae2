"""Images ↔ samples for an image input hook (numpy and Pillow only): a drawing or an uploaded picture
becomes a sample of the hook's shape and value range, and a sample becomes a picture to show.

Values run from the hook's `min_value` (paper) to `max_value` (ink), as in the digits (0 blank, 16
ink). A one-channel picture with a light background (drawn in black on white, or a scan) is read as
ink on paper; a dark one as light ink on black (the border's median tells which). Colour inputs ([3, H, W]) keep their channels.
"""

from __future__ import annotations

SHOW = 224  # pixels on the longer side of a sample shown on the page
# the most pixels a picture may have: a few hundred kB of PNG can hold 170 million blank pixels, and
# reading one as float64 took ~50 bytes a pixel (8 GB); Pillow refuses to decode over twice this
MAX_PIXELS = 4096 * 4096


def layout(shape) -> tuple[int, int, int] | None:
    """(channels, height, width) of an image input's shape ([H, W], [1, H, W] or [3, H, W]); else None."""
    dims = [int(d) for d in shape]
    if len(dims) == 2:
        dims = [1, *dims]
    if len(dims) == 3 and dims[0] in (1, 3) and min(dims[1:]) > 1:
        return dims[0], dims[1], dims[2]
    return None


def _image_layout(shape) -> tuple[int, int, int]:
    """`layout`, for callers that only hand in an image input's shape."""
    found = layout(shape)
    if found is None:
        raise TypeError(f"{shape}: not an image input's shape")
    return found


def flat_image(array):
    """Any picture (grey, RGB, RGBA) → float RGB or grey on white, 0..255 (transparent is paper)."""
    import numpy as np

    a = np.asarray(array, dtype=np.float64)
    if a.ndim == 3 and a.shape[2] == 4:  # over white: an untouched sketch pad is transparent
        alpha = a[..., 3:4] / 255.0
        a = a[..., :3] * alpha + 255.0 * (1 - alpha)
    return a


def to_sample(array, shape, lo: float, hi: float) -> list:
    """A picture → a sample of `shape` within [lo, hi] (area-averaged down, or up, to the shape)."""
    import numpy as np
    from PIL import Image

    channels, height, width = _image_layout(shape)
    size = np.shape(array)
    if len(size) >= 2 and size[0] * size[1] > MAX_PIXELS:
        from .inputs import BadRequest

        raise BadRequest(413, f"the picture has {size[0]}×{size[1]} pixels; at most {MAX_PIXELS} are read")
    a = flat_image(array)
    if channels == 1:
        grey = a.mean(axis=2) if a.ndim == 3 else a
        border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        ink = 255.0 - grey if np.median(border) > 127.5 else grey  # light paper: dark strokes are the ink
        planes = [ink]
    else:
        rgb = a if a.ndim == 3 else np.stack([a] * 3, axis=2)
        planes = [rgb[..., c] for c in range(3)]
    out = []
    for plane in planes:
        small = Image.fromarray(plane.astype(np.float32), mode="F").resize((width, height), Image.Resampling.BOX)
        values = np.clip(np.asarray(small, dtype=np.float64) / 255.0, 0, 1) * (hi - lo) + lo
        out.append(values)
    sample = np.stack(out)  # channels, height, width
    # numpy's stubs give reshape() of an array of unknown rank a 0-d shape, so tolist() a float
    return sample.reshape([int(d) for d in shape]).tolist()  # type: ignore[return-value]


def to_picture(sample, shape, lo: float, hi: float, size: int = SHOW):
    """A sample → a uint8 picture to show (one channel: ink dark on white), scaled up by whole pixels."""
    import numpy as np

    channels, height, width = _image_layout(shape)
    a = np.asarray(sample, dtype=np.float64).reshape(channels, height, width)
    level = np.clip((a - lo) / ((hi - lo) or 1.0), 0, 1)
    picture = (255 - 255 * level[0]) if channels == 1 else 255 * level.transpose(1, 2, 0)
    k = max(1, size // max(height, width))
    picture = np.repeat(np.repeat(picture, k, axis=0), k, axis=1)
    return np.round(picture).astype(np.uint8)
