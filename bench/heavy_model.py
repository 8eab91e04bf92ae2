"""A deliberately heavy digits classifier for the serving benchmark: a wide MLP whose single-sample
forward pass takes about 10 ms on one core of these machines (weights dominate, so batching pays)."""

from torch import nn

from mlws.examples.digits import DigitsClassifier


class HeavyClassifier(DigitsClassifier):
    def __init__(self, width: int = 2048, depth: int = 5, lr: float = 1e-3):
        layers = [nn.Flatten(), nn.Linear(64, width), nn.ReLU()]
        for _ in range(depth - 1):
            layers += [nn.Linear(width, width), nn.ReLU()]
        layers.append(nn.Linear(width, 10))
        super().__init__(net=nn.Sequential(*layers), lr=lr)
