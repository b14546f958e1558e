"""Search spaces: the pure grammar (check_space, read_space) and Tune's param space from it."""

from __future__ import annotations

import pytest
from ray import tune

from raymlops.core.errors import InvalidInputError
from raymlops.training.search_space import Distribution, check_space, read_space
from raymlops.training.tune import load_space, parse_space


def test_check_space_converts_bounds_and_keeps_constants():
    got = check_space(
        {
            "lr": {"loguniform": [0.01, 0.3]},
            "leaves": {"randint": [8.0, 64.0]},
            "depth": {"choice": [None, 3]},
            "noise": {"normal": [0, 1]},
            "stop": False,
        }
    )
    assert got == {
        "lr": Distribution("loguniform", (0.01, 0.3)),
        "leaves": Distribution("randint", (8, 64)),
        "depth": Distribution("choice", (None, 3)),
        "noise": Distribution("normal", (0.0, 1.0)),
        "stop": False,
    }
    assert isinstance(got["leaves"].args[0], int) and isinstance(got["noise"].args[0], float)


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ({"uniform": [0, 1], "randint": [1, 2]}, "give exactly one distribution"),
        ({"triangular": [0, 1]}, "unknown distribution 'triangular'"),
        ({"choice": []}, "the arguments must be a non-empty list"),
        ({"uniform": 0.5}, "the arguments must be a non-empty list"),
        ({"uniform": [0, 1, 2]}, "give [low, high]"),
        ({"uniform": [1, 0]}, "low must be below high"),
        ({"loguniform": [0, 1]}, "loguniform needs low > 0"),
        ({"uniform": ["a", 1]}, "'<' not supported"),
        ({"uniform": ["a", "b"]}, "could not convert string to float: 'a'"),
    ],
)
def test_a_bad_entry_names_itself_and_why(spec, why):
    with pytest.raises(InvalidInputError, match="search space entry 'x'") as err:
        check_space({"x": spec})
    assert why in str(err.value) and repr(spec) in str(err.value)
    with pytest.raises(InvalidInputError, match="search space entry 'x'"):
        parse_space({"x": spec})


def test_a_space_is_a_mapping():
    with pytest.raises(InvalidInputError, match="a search space is a mapping of parameter -> distribution, got list"):
        check_space([{"uniform": [0, 1]}])


def test_parse_space_builds_tune_objects():
    space = parse_space({"lr": {"uniform": [0.0, 1.0]}, "n": {"grid": [1, 2]}, "k": {"qrandint": [1, 9]}, "c": 3})
    assert isinstance(space["lr"], tune.search.sample.Float)
    assert (space["lr"].lower, space["lr"].upper) == (0.0, 1.0)
    assert space["n"] == {"grid_search": [1, 2]}
    assert isinstance(space["k"], tune.search.sample.Integer)
    assert space["c"] == 3
    already = tune.choice([1, 2])
    assert parse_space({"t": already})["t"] is already


def test_tunes_own_refusals_are_input_errors_naming_the_entry():
    with pytest.raises(InvalidInputError, match=r"search space entry 'lr': Uniform requires a upper bound"):
        parse_space({"lr": {"uniform": [0.0, float("inf")]}})


def test_read_space_returns_the_file_as_written(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("learning_rate: {loguniform: [0.01, 0.3]}\nmax_depth: {choice: [null, 3]}\nearly_stopping: false\n")
    assert read_space(str(path)) == {
        "learning_rate": {"loguniform": [0.01, 0.3]},
        "max_depth": {"choice": [None, 3]},
        "early_stopping": False,
    }
    assert set(load_space(str(path))) == {"learning_rate", "max_depth", "early_stopping"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "cannot read search space"),
        ("", "is empty"),
        ("a: [1, 2\n", "does not parse as YAML"),
        ("lr: {triangular: [0, 1]}\n", "unknown distribution 'triangular'"),
    ],
)
def test_read_space_refuses_unusable_files(tmp_path, text, message):
    path = tmp_path / "space.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(InvalidInputError, match=message):
        read_space(str(path))
