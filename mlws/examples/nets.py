"""Architectures for 1x8x8 digit images."""

from __future__ import annotations

from torch import nn


class MLP(nn.Sequential):
    """Flatten, then `hidden` fully connected layers; `hidden=[]` is logistic regression."""

    def __init__(
        self,
        in_features: int = 64,
        num_classes: int = 10,
        hidden: list[int] = (),
        dropout: float = 0.0,
        batch_norm: bool = False,
    ):
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for units in hidden:
            layers.append(nn.Linear(width, units))
            if batch_norm:
                layers.append(nn.BatchNorm1d(units))
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = units
        layers.append(nn.Linear(width, num_classes))
        super().__init__(*layers)


class CNN(nn.Sequential):
    """3x3 convolutions (padding keeps 8x8), one 2x2 pooling per block, then a small head."""

    def __init__(
        self,
        num_classes: int = 10,
        channels: list[int] = (16, 32),
        hidden: int = 64,
        dropout: float = 0.0,
        batch_norm: bool = False,
    ):
        layers: list[nn.Module] = []
        in_ch, size = 1, 8
        for out_ch in channels:
            layers.append(nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_ch))
            layers += [nn.ReLU(), nn.MaxPool2d(2)]
            in_ch, size = out_ch, size // 2
        layers += [nn.Flatten(), nn.Linear(in_ch * size * size, hidden), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(hidden, num_classes))
        super().__init__(*layers)
