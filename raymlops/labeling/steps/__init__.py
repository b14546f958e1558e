"""The recorded labeling steps behind ``raymlops labels``: each reads its inputs, runs a
pure core (or its Ray shell), writes its outputs and records them as artifacts with
lineage to the inputs. Each returns the command's ``--json`` payload.
"""

from __future__ import annotations

from raymlops.labeling.steps.aggregate import aggregate
from raymlops.labeling.steps.join import join_labels
from raymlops.labeling.steps.label_studio import import_label_studio
from raymlops.labeling.steps.query import query
from raymlops.labeling.steps.self_train import self_train
from raymlops.labeling.steps.weak import apply_lfs, weak

__all__ = ["aggregate", "apply_lfs", "import_label_studio", "join_labels", "query", "self_train", "weak"]
