"""Procedural face images with known latent factors, so the pipeline runs with no download.

Every shape and colour is driven by one factor drawn from a standard normal. Factors of
image ``i`` come from a generator seeded by ``(seed, i)``, so an image never depends on
how many images are made or how they are chunked. Rendering is vectorised over a batch:
each feature is an axis-aligned ellipse, tested with a (B,1,S) + (B,S,1) broadcast.
"""

from __future__ import annotations

import numpy as np

FACTOR_NAMES = (
    "face_x",
    "face_y",
    "face_width",
    "face_height",
    "skin_tone",
    "hair_lightness",
    "hair_volume",
    "eye_spacing",
    "eye_size",
    "eye_height",
    "brow_height",
    "nose_length",
    "mouth_width",
    "mouth_open",
    "background_hue",
    "background_lightness",
)
TRAIN_FRACTION, VALID_FRACTION = 0.8, 0.1


def synthetic_factors(seed: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Factors (n, F) float32 and partition (n,) uint8 (0 train, 1 valid, 2 test) of items start..stop."""
    n_factors = len(FACTOR_NAMES)
    factors = np.empty((stop - start, n_factors), np.float32)
    partition = np.empty(stop - start, np.uint8)
    for row, i in enumerate(range(start, stop)):
        rng = np.random.default_rng([seed, i])
        factors[row] = rng.standard_normal(n_factors)
        u = rng.random()
        partition[row] = 0 if u < TRAIN_FRACTION else (1 if u < TRAIN_FRACTION + VALID_FRACTION else 2)
    return factors, partition


def _mix(dark: np.ndarray, light: np.ndarray, t: np.ndarray) -> np.ndarray:
    return (dark[None, :] * (1 - t[:, None]) + light[None, :] * t[:, None]).astype(np.uint8)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def render_faces(factors: np.ndarray, size: int = 96) -> np.ndarray:
    """Render (n, size, size, 3) uint8 faces from (n, F) factors."""
    f = {name: factors[:, j].astype(np.float32) for j, name in enumerate(FACTOR_NAMES)}
    n = len(factors)
    grid = (np.arange(size, dtype=np.float32) + 0.5) / size * 2 - 1  # pixel centres in [-1, 1]
    u, v = grid[None, None, :], grid[None, :, None]

    def paint(cx, cy, ax, ay, colour):
        # Test only the window that holds this feature in every image of the batch.
        r0, r1 = _window(cy - ay, cy + ay, size)
        c0, c1 = _window(cx - ax, cx + ax, size)
        du = ((u[..., c0:c1] - cx[:, None, None]) / ax[:, None, None]) ** 2
        dv = ((v[:, r0:r1] - cy[:, None, None]) / ay[:, None, None]) ** 2
        window = image[:, r0:r1, c0:c1]
        np.copyto(window, colour[:, None, None, :], where=(du + dv <= 1.0)[..., None])

    # Background: a vertical gradient whose hue and lightness are factors.
    hue = f["background_hue"] * 1.2
    base = 0.5 + 0.35 * np.stack([np.sin(hue), np.sin(hue + 2.1), np.sin(hue + 4.2)], axis=1)
    light = np.clip(0.75 + 0.15 * f["background_lightness"], 0.3, 1.1)[:, None]
    top, bottom = np.clip(base * light * 255, 0, 255), np.clip(base * light * 180, 0, 255)
    t = (v[0, :, 0] + 1) / 2
    image = (top[:, None, :] * (1 - t[None, :, None]) + bottom[:, None, :] * t[None, :, None]).astype(np.uint8)
    image = np.repeat(image[:, :, None, :], size, axis=2)

    cx = np.clip(0.08 * f["face_x"], -0.25, 0.25)
    cy = np.clip(0.12 + 0.05 * f["face_y"], -0.15, 0.35)
    ax = np.clip(0.56 + 0.05 * f["face_width"], 0.42, 0.7)
    ay = np.clip(0.68 + 0.05 * f["face_height"], 0.55, 0.82)
    skin = _mix(np.array([95, 60, 40.0]), np.array([245, 210, 180.0]), _sigmoid(1.2 * f["skin_tone"] + 0.8))
    hair = _mix(np.array([25, 18, 12.0]), np.array([235, 200, 120.0]), _sigmoid(1.5 * f["hair_lightness"] - 0.5))
    volume = np.clip(1.12 + 0.07 * f["hair_volume"], 1.0, 1.35)
    paint(cx, cy - 0.12 * ay, ax * volume, ay * 0.95 * volume, hair)
    paint(cx, cy, ax, ay, skin)

    eye_dx = ax * np.clip(0.42 + 0.06 * f["eye_spacing"], 0.28, 0.6)
    eye_y = cy - ay * np.clip(0.18 + 0.05 * f["eye_height"], 0.05, 0.35)
    eye_r = ax * np.clip(0.16 + 0.025 * f["eye_size"], 0.09, 0.24)
    white = np.full((n, 3), 240, np.uint8)
    iris = _mix(np.array([40, 25, 15.0]), np.array([70, 110, 160.0]), _sigmoid(f["hair_lightness"]))
    brow_y = eye_y - eye_r * np.clip(1.6 + 0.3 * f["brow_height"], 1.1, 2.4)
    for side in (-1.0, 1.0):
        ex = cx + side * eye_dx
        paint(ex, eye_y, eye_r, eye_r * 0.6, white)
        paint(ex, eye_y, eye_r * 0.5, eye_r * 0.5, iris)
        paint(ex, brow_y, eye_r * 1.2, eye_r * 0.22, hair)

    nose_len = ay * np.clip(0.2 + 0.04 * f["nose_length"], 0.1, 0.32)
    nose_colour = (skin.astype(np.float32) * 0.8).astype(np.uint8)
    paint(cx, eye_y + eye_r + nose_len * 0.8, ax * 0.09, nose_len, nose_colour)

    mouth_y = cy + ay * 0.55
    mouth_w = ax * np.clip(0.38 + 0.07 * f["mouth_width"], 0.2, 0.6)
    mouth_h = ay * np.clip(0.06 + 0.03 * f["mouth_open"], 0.025, 0.16)
    paint(cx, mouth_y, mouth_w, mouth_h, np.tile(np.array([[170, 50, 60]], np.uint8), (n, 1)))
    return image


def _window(lo: np.ndarray, hi: np.ndarray, size: int) -> tuple[int, int]:
    """Pixel index range covering [min(lo), max(hi)] in [-1, 1] coordinates."""
    first = int(np.floor((float(lo.min()) + 1) / 2 * size - 0.5))
    last = int(np.ceil((float(hi.max()) + 1) / 2 * size - 0.5)) + 1
    return max(first, 0), min(max(last, 0), size)
