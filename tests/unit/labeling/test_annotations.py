from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from raymlops.labeling import Annotations, AnnotationsError, Gold, GoldError


def frame(**cols):
    return pd.DataFrame(cols)


def test_codes_round_trip_to_the_original_values():
    df = frame(task=["t1", "t2", "t1"], worker=["a", "b", "b"], label=["dog", "cat", "cat"])
    ann = Annotations.from_frame(df)
    assert ann.classes == ["cat", "dog"]
    decoded = list(zip(ann.tasks[ann.task], ann.workers[ann.worker], np.array(ann.classes)[ann.label]))
    assert decoded == list(df.itertuples(index=False, name=None))


def test_custom_column_names():
    df = frame(item=[1, 1], annotator=["a", "b"], answer=[0, 1])
    ann = Annotations.from_frame(df, task_col="item", worker_col="annotator", label_col="answer")
    assert ann.n_labels == 2 and ann.columns == {"task": "item", "worker": "annotator", "label": "answer"}


def test_missing_column_names_the_column_and_the_flag():
    with pytest.raises(AnnotationsError, match=r"no column 'label'.*--label-col") as e:
        Annotations.from_frame(frame(task=[1], worker=["a"], lab=[0]))
    assert e.value.exit_code == 2


def test_empty_label_names_the_row_and_the_task():
    df = frame(task=[1, 2, 3], worker=["a", "a", "a"], label=[0, None, 1])
    with pytest.raises(AnnotationsError, match=r"row 1: column 'label' is empty \(task 2 has no label there\)"):
        Annotations.from_frame(df)


def test_blank_worker_is_empty():
    with pytest.raises(AnnotationsError, match=r"row 0: column 'worker' is empty"):
        Annotations.from_frame(frame(task=[1], worker=["  "], label=[0]))


def test_missing_and_blank_cells_are_counted_together():
    with pytest.raises(AnnotationsError, match=r"row 1: column 'worker' is empty; fill it in or drop the row \(2 such rows\)"):
        Annotations.from_frame(frame(task=[1, 2, 3, 4], worker=["a", None, " ", "b"], label=[0, 1, 0, 1]))


def test_dropping_repeats_keeps_the_order_of_the_other_labels():
    ann = Annotations.from_frame(frame(task=[1, 2, 1, 3, 2], worker=["a", "a", "a", "b", "b"], label=[0, 1, 1, 0, 0]))
    assert ann.duplicates == 1
    assert list(zip(ann.tasks[ann.task].tolist(), ann.workers[ann.worker].tolist(), ann.label.tolist())) == [
        (2, "a", 1), (1, "a", 1), (3, "b", 0), (2, "b", 0)
    ]


def test_no_rows():
    with pytest.raises(AnnotationsError, match="no rows"):
        Annotations.from_frame(frame(task=[], worker=[], label=[]))


def test_label_outside_given_classes_names_the_row():
    with pytest.raises(AnnotationsError, match=r"row 1: label 'bird'"):
        Annotations.from_frame(frame(task=[1, 2], worker=["a", "a"], label=["cat", "bird"]), classes=["cat", "dog"])


def test_repeated_pair_keeps_the_last_label_and_counts_it():
    ann = Annotations.from_frame(frame(task=[1, 1, 1], worker=["a", "a", "b"], label=[0, 1, 0]))
    assert ann.duplicates == 1 and ann.n_labels == 2
    assert sorted(zip(ann.worker.tolist(), ann.label.tolist())) == [(0, 1), (1, 0)]


def test_one_and_one_point_zero_are_one_class():
    ann = Annotations.from_frame(frame(task=[1, 2], worker=["a", "a"], label=[1, 1.0]))
    assert ann.n_classes == 1


def test_gold_with_unknown_class_names_the_row_and_task():
    ann = Annotations.from_frame(frame(task=[1, 2], worker=["a", "a"], label=["cat", "dog"]))
    with pytest.raises(GoldError, match=r"gold row 1: label 'fox' of task 2"):
        Gold.from_frame(frame(task=[1, 2], label=["cat", "fox"]), ann)


def test_gold_with_two_labels_for_one_task():
    ann = Annotations.from_frame(frame(task=[1, 2], worker=["a", "a"], label=["cat", "dog"]))
    with pytest.raises(GoldError, match=r"rows \[0, 1\]: task 1 has different gold labels"):
        Gold.from_frame(frame(task=[1, 1], label=["cat", "dog"]), ann)


def test_gold_task_nobody_labelled_joins_the_tasks():
    ann = Annotations.from_frame(frame(task=[1], worker=["a"], label=["cat"]))
    g, ann2 = Gold.from_frame(frame(task=[9], label=["cat"]), ann)
    assert ann2.tasks.tolist() == [1, 9] and g.task.tolist() == [1]


def test_extend_adds_tasks_workers_and_replaces_repeats():
    ann = Annotations.from_frame(frame(task=[1, 2], worker=["a", "b"], label=[0, 1]))
    combined, new = ann.extend(frame(task=[2, 3], worker=["b", "c"], label=[0, 1]))
    assert combined.n_tasks == 3 and combined.n_workers == 3 and combined.n_labels == 3
    assert combined.duplicates == 1
    assert np.array(combined.tasks)[combined.task[new]].tolist() == [2, 3]
