"""The HTTP contract: every bad body is a 4xx with a JSON error body naming the problem."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raymlops.core.errors import NotFoundError, RaymlopsError
from raymlops.serving.protocol import (
    MODEL_VERSION_HEADER,
    ClientError,
    FeedbackRequest,
    InvalidInstancesError,
    InvalidRequestError,
    MalformedRequestError,
    ModelNotServedError,
    PayloadTooLargeError,
    SignatureError,
    UnauthorizedError,
    check_model,
    check_token,
    error_body,
    error_response,
    feedback_response,
    new_request_id,
    parse_feedback_request,
    parse_predict_request,
    predict_response,
)

SIG = {
    "inputs": [
        {"name": "age", "type": "double"},
        {"name": "visits", "type": "long"},
        {"name": "member", "type": "boolean"},
        {"name": "city", "type": "string"},
    ],
    "output": {"type": "class", "classes": [0, 1]},
}
GOOD = {"age": 31.5, "visits": 3, "member": True, "city": "Oslo"}


def body(obj) -> bytes:
    return json.dumps(obj).encode()


def rejected(raw, status: int, **kw) -> ClientError:
    with pytest.raises(ClientError) as e:
        parse_predict_request(raw, SIG, **kw)
    err = e.value
    assert err.http_status == status
    out = json.loads(json.dumps(err.body(), allow_nan=False))
    assert set(out["error"]) == {"code", "message", "details"}
    return err


# --------------------------------------------------------------------------- success


def test_valid_instances_become_a_typed_frame_in_signature_order():
    inst = [{"city": "Lima", "member": False, "visits": 0, "age": 20}, GOOD]
    df = parse_predict_request(body({"instances": inst}), SIG)
    assert list(df.columns) == ["age", "visits", "member", "city"]
    assert df.dtypes.astype(str).tolist() == ["float64", "int64", "bool", "object"]
    assert df["age"].tolist() == [20.0, 31.5] and df["city"].tolist() == ["Lima", "Oslo"]
    assert isinstance(df.index, pd.RangeIndex)


def test_as_list_returns_converted_dicts():
    rows = parse_predict_request(body({"instances": [{**GOOD, "age": 7, "visits": 2.0}]}), SIG, as_frame=False)
    assert rows == [{"age": 7.0, "visits": 2, "member": True, "city": "Oslo"}]
    assert type(rows[0]["age"]) is float and type(rows[0]["visits"]) is int


def test_body_may_be_str_bytearray_or_memoryview():
    raw = body({"instances": [GOOD]})
    for b in (raw.decode(), bytearray(raw), memoryview(raw)):
        assert len(parse_predict_request(b, SIG)) == 1


def test_signatures_written_before_the_one_vocabulary_read_the_same():
    old = {"inputs": [{"name": "a", "type": "double"}, {"name": "n", "type": "long"}, {"name": "b", "type": "boolean"}]}
    new = {"inputs": [{"name": "a", "type": "float"}, {"name": "n", "type": "int"}, {"name": "b", "type": "bool"}]}
    body = b'{"instances": [{"a": 1, "n": 2, "b": true}]}'
    pd.testing.assert_frame_equal(parse_predict_request(body, old), parse_predict_request(body, new))


def test_datetime_inputs_take_iso_strings_naive_meaning_utc():
    sig = {"inputs": [{"name": "t", "type": "datetime"}]}
    df = parse_predict_request(b'{"instances": [{"t": "2026-01-02T03:04:05"}, {"t": "2026-01-02T04:04:05+01:00"}]}', sig)
    assert str(df["t"].dtype) == "datetime64[us]" and df["t"].nunique() == 1
    with pytest.raises(ClientError) as exc:
        parse_predict_request(b'{"instances": [{"t": "yesterday"}]}', sig)
    assert exc.value.details[0]["problem"] == "expected an ISO 8601 date-time, got string 'yesterday'"


def test_long_bounds_and_integral_floats():
    ok = parse_predict_request(body({"instances": [{**GOOD, "visits": 2**63 - 1}, {**GOOD, "visits": -(2**63)}]}), SIG)
    assert ok["visits"].tolist() == [2**63 - 1, -(2**63)]
    err = rejected(body({"instances": [{**GOOD, "visits": 2**63}]}), 422)
    assert "int64" in err.details[0]["problem"]
    err = rejected(body({"instances": [{**GOOD, "visits": 2.5}]}), 422)
    assert err.details[0]["problem"] == "expected int, got number 2.5 (has a fraction)"


# --------------------------------------------------------------------------- 400


@pytest.mark.parametrize(
    "raw, fragment",
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"{", "not valid JSON"),
        (b"{'instances': []}", "not valid JSON"),
        (b'{"instances": []} trailing', "not valid JSON"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b'{"instances": [], "instances": []}', "appears twice"),
        (b"[" * 100_000 + b"]" * 100_000, "too deeply"),
    ],
)
def test_malformed_bodies_are_400(raw, fragment):
    err = rejected(raw, 400, max_bytes=1_000_000)
    assert isinstance(err, MalformedRequestError) and err.code == "malformed_request"
    assert fragment in err.message


# --------------------------------------------------------------------------- 413


def test_body_over_max_bytes_is_413_before_parsing():
    err = rejected(b"x" * 101, 413, max_bytes=100)
    assert isinstance(err, PayloadTooLargeError)
    assert err.details == [{"bytes": 101, "max_bytes": 100}]


def test_too_many_instances_is_413():
    err = rejected(body({"instances": [GOOD] * 11}), 413, max_instances=10)
    assert err.details == [{"field": "instances", "instances": 11, "max_instances": 10}]
    assert "split the batch" in err.message


# --------------------------------------------------------------------------- 422 shape


@pytest.mark.parametrize(
    "obj, problem",
    [
        ({}, "missing"),
        ({"instances": {"age": 1}}, "expected a list of objects, got object"),
        ({"instances": "abc"}, "expected a list of objects, got string 'abc'"),
        ({"instances": None}, "expected a list of objects, got null"),
        ({"instances": []}, "empty list"),
    ],
)
def test_instances_missing_not_a_list_or_empty_is_422(obj, problem):
    err = rejected(body(obj), 422)
    assert isinstance(err, InvalidRequestError) and err.code == "invalid_request"
    assert err.details == [{"field": "instances", "problem": problem}]


def test_body_not_an_object_and_unknown_keys_are_422():
    err = rejected(body([GOOD]), 422)
    assert "must be a JSON object" in err.message
    err = rejected(body({"instances": [GOOD], "parameters": {}}), 422)
    assert err.details == [{"field": "parameters", "problem": "unknown field"}]


def test_instances_that_are_not_objects_are_named():
    err = rejected(body({"instances": [GOOD, [1, 2], 5, None]}), 422)
    assert err.details == [
        {"instance": 1, "problem": "expected an object {field: value}, got array"},
        {"instance": 2, "problem": "expected an object {field: value}, got integer 5"},
        {"instance": 3, "problem": "expected an object {field: value}, got null"},
    ]


# --------------------------------------------------------------------------- 422 per field


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("age", "abc", "expected float, got string 'abc'"),
        ("age", True, "expected float, got boolean true"),
        ("age", None, "expected float, got null"),
        ("age", [1.0], "expected float, got array"),
        ("visits", "3", "expected int, got string '3'"),
        ("visits", False, "expected int, got boolean false"),
        ("member", 1, "expected bool, got integer 1"),
        ("member", "true", "expected bool, got string 'true'"),
        ("city", 5, "expected string, got integer 5"),
        ("city", {"a": 1}, "expected string, got object"),
    ],
)
def test_wrong_types_are_422_with_instance_and_field(field, value, problem):
    err = rejected(body({"instances": [GOOD, GOOD, GOOD, {**GOOD, field: value}]}), 422)
    assert isinstance(err, InvalidInstancesError) and err.code == "invalid_instances"
    assert err.details == [{"instance": 3, "field": field, "problem": problem}]
    assert err.message.startswith(f"1 problem(s) in 1 of 4 instance(s); first: instance 3 field '{field}'")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
@pytest.mark.parametrize("field", ["age", "visits"])
def test_non_finite_numbers_are_rejected_per_field(literal, field):
    raw = b'{"instances": [%s]}' % json.dumps({**GOOD, field: "@"}).replace('"@"', literal).encode()
    err = rejected(raw, 422)
    (d,) = err.details
    assert (d["instance"], d["field"]) == (0, field)
    assert literal in d["problem"] and "finite" in d["problem"]


def test_huge_integer_literal_is_422_not_a_crash():
    raw = b'{"instances": [%s]}' % json.dumps({**GOOD, "age": "@"}).replace('"@"', "9" * 5000).encode()
    err = rejected(raw, 422)
    assert "an integer with 5000 digits" in err.details[0]["problem"]


def test_missing_and_extra_fields_are_all_listed():
    inst = {"age": 1.0, "visits": 1, "member": True, "town": "Oslo", "zip": "0150"}
    err = rejected(body({"instances": [inst]}), 422)
    assert err.details == [
        {"instance": 0, "field": "city", "problem": "missing required field"},
        {"instance": 0, "field": "town", "problem": "unexpected field: not an input of the model"},
        {"instance": 0, "field": "zip", "problem": "unexpected field: not an input of the model"},
    ]
    assert "age: float, visits: int, member: bool, city: string" in err.message


def test_lone_surrogates_are_rejected_and_details_stay_encodable():
    raw = b'{"instances": [{"age": 1, "visits": 1, "member": true, "city": "\\ud800", "\\udfff": 1}]}'
    err = rejected(raw, 422)
    assert "lone surrogate" in err.details[0]["problem"]
    json.dumps(err.body(), ensure_ascii=False).encode("utf-8")  # no UnicodeEncodeError


def test_details_are_capped_and_counted():
    err = rejected(body({"instances": [{}] * 200}), 422)
    assert len(err.details) == 101
    assert err.details[-1] == {"problem": "700 more problems not listed"}
    assert err.message.startswith("800 problem(s) in 200 of 200 instance(s)")


def test_invalid_signature_is_a_server_error():
    with pytest.raises(SignatureError) as e:
        parse_predict_request(body({"instances": [GOOD]}), {"inputs": [{"name": "a", "type": "complex"}]})
    assert e.value.http_status == 500 and not isinstance(e.value, ClientError)


# --------------------------------------------------------------------------- fuzz


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6),
    st.sampled_from([2**63, -(2**63) - 1, 1e308, 0.0, -0.0]), st.lists(st.integers(), max_size=2),
)  # fmt: skip
INSTANCE = st.dictionaries(st.sampled_from(["age", "visits", "member", "city", "other"]), VALUES, max_size=5)
NEAR_VALID = st.one_of(
    st.fixed_dictionaries({"instances": st.lists(INSTANCE, max_size=6)}),
    st.fixed_dictionaries({"instances": st.lists(st.one_of(INSTANCE, JSON), max_size=4)}),
    st.dictionaries(st.sampled_from(["instances", "inputs", "x"]), JSON, max_size=2),
    JSON,
)


def _check_outcome(raw: bytes) -> None:
    try:
        df = parse_predict_request(raw, SIG, max_bytes=5_000, max_instances=5)
    except ClientError as e:
        assert 400 <= e.http_status < 500
        assert json.loads(json.dumps(e.body(), allow_nan=False, ensure_ascii=False).encode("utf-8"))
        status, payload, _ = error_response(e)
        assert status == e.http_status and payload == e.body()
        return
    assert list(df.columns) == ["age", "visits", "member", "city"]
    assert df.dtypes.astype(str).tolist() == ["float64", "int64", "bool", "object"]
    assert np.isfinite(df["age"].to_numpy()).all()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=300))
def test_fuzz_arbitrary_bytes_give_only_client_errors(raw):
    _check_outcome(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obj=NEAR_VALID)
def test_fuzz_arbitrary_json_gives_only_client_errors_or_success(obj):
    _check_outcome(json.dumps(obj, allow_nan=True).encode("utf-8"))


@settings(max_examples=200, deadline=None)
@given(obj=NEAR_VALID, cut=st.integers(min_value=0, max_value=200), junk=st.binary(max_size=5))
def test_fuzz_truncated_and_spliced_json(obj, cut, junk):
    raw = json.dumps(obj, allow_nan=True).encode()
    _check_outcome(raw[:cut] + junk + raw[cut:])


@settings(max_examples=200, deadline=None)
@given(obj=st.one_of(JSON, st.fixed_dictionaries({"request_id": JSON, "labels": JSON})))
def test_fuzz_feedback_gives_only_client_errors_or_success(obj):
    try:
        fb = parse_feedback_request(json.dumps(obj, allow_nan=True).encode(), max_labels=3)
    except ClientError as e:
        assert 400 <= e.http_status < 500
        json.dumps(e.body(), allow_nan=False, ensure_ascii=False).encode("utf-8")
        return
    assert isinstance(fb.request_id, str) and 1 <= len(fb.labels) <= 3


# --------------------------------------------------------------------------- feedback


def test_feedback_valid():
    fb = parse_feedback_request(body({"request_id": "abc-123", "labels": [1, "x", None, 2.5, True]}))
    assert fb == FeedbackRequest("abc-123", [1, "x", None, 2.5, True])


@pytest.mark.parametrize(
    "obj, status, fragment",
    [
        ({"labels": [1]}, 422, "request_id"),
        ({"request_id": "a b", "labels": [1]}, 422, "request id"),
        ({"request_id": "r", "labels": []}, 422, "empty list"),
        ({"request_id": "r", "labels": 1}, 422, "expected a list"),
        ({"request_id": "r", "labels": [[1]]}, 422, "got array"),
        ({"request_id": "r", "labels": [1], "extra": 1}, 422, "unknown field"),
        ({"request_id": "r", "labels": [1] * 5}, 413, "limit of 4"),
        ([1], 422, "JSON object"),
    ],
)
def test_feedback_invalid(obj, status, fragment):
    with pytest.raises(ClientError) as e:
        parse_feedback_request(body(obj), max_labels=4)
    assert e.value.http_status == status
    assert fragment in e.value.message or fragment in json.dumps(e.value.details)


def test_feedback_rejects_nan_labels():
    with pytest.raises(InvalidRequestError) as e:
        parse_feedback_request(b'{"request_id": "r", "labels": [NaN]}')
    assert e.value.details == [
        {"label": 0, "problem": "expected a string, number, boolean or null, got NaN (not a JSON number; send finite numbers)"}
    ]


# --------------------------------------------------------------------------- auth, 404, responses


def test_check_token():
    check_token(None, None)  # authentication off
    check_token("anything", "")
    check_token("Bearer s3cret", "s3cret")
    check_token("bearer   s3cret ", "s3cret")
    for header, fragment in [
        (None, "missing"),
        ("", "missing"),
        ("Basic s3cret", "not a bearer"),
        ("Bearer", "not a bearer"),
        ("Bearer wrong", "not valid"),
        ("Bearer s3cret2", "not valid"),
        ("Bearer sécret", "not valid"),
    ]:
        with pytest.raises(UnauthorizedError, match=fragment) as e:
            check_token(header, "s3cret")
        assert e.value.http_status == 401
        assert e.value.headers == {"www-authenticate": 'Bearer realm="raymlops"'}
        assert error_response(e.value)[2] == e.value.headers


def test_check_model_404():
    assert check_model("iris", ["iris", "wine"]) == "iris"
    with pytest.raises(ModelNotServedError) as e:
        check_model("nope", ["wine", "iris"])
    err = e.value
    assert (err.http_status, err.code) == (404, "model_not_found") and isinstance(err, NotFoundError)
    assert "served models: iris, wine" in err.message and "raymlops serve up --model nope@VERSION" in err.message


def test_predict_response_converts_numpy_and_non_finite():
    out = predict_response(np.array([0.5, np.nan, np.inf]), model_version=3, request_id="r1")
    assert out == {"predictions": [0.5, None, None], "model_version": "3", "request_id": "r1"}
    out = predict_response(pd.Series(["a", "b"]), model_version="7", request_id="r2")
    assert out["predictions"] == ["a", "b"] and MODEL_VERSION_HEADER == "x-model-version"
    out = predict_response(np.array([[0.1, 0.9]]), model_version=1, request_id="r3")
    assert out["predictions"] == [[0.1, 0.9]]
    assert predict_response([np.int64(1), np.bool_(True)], model_version=1, request_id="r")["predictions"] == [1, True]
    json.dumps(out, allow_nan=False)


def test_error_helpers():
    err = InvalidRequestError("bad", details=[{"field": "x"}])
    assert error_body(err) == {"error": {"code": "invalid_request", "message": "bad", "details": [{"field": "x"}]}}
    status, payload, headers = error_response(RuntimeError("secret internals"))
    assert status == 500 and "secret" not in json.dumps(payload) and headers == {}
    assert error_response(RaymlopsError("x"))[0] == 400
    assert feedback_response("r", accepted=3) == {"request_id": "r", "accepted": 3}
    a, b = new_request_id(), new_request_id()
    assert a != b and len(a) == 32
    parse_feedback_request(body({"request_id": a, "labels": [1]}))  # our ids pass the feedback check
