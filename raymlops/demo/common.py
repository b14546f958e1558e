"""What every chapter of the demo shares: the dataset, its label and the model's name."""

from __future__ import annotations

__all__ = ["DATASET", "MODEL", "TARGET"]

DATASET = "breast_cancer"
TARGET = "target"
MODEL = "breast-cancer"
