"""Webhook signatures (both sides), the body encoding and the retry backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import random

import pytest

from store.webhooks.outbox import encode_body
from worker.webhooks import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    retry_delay,
    signature,
    signed_headers,
    verify_signature,
)

SECRET = "khoa-bi-mat-0123456789"
BODY = '{"a":1,"tên":"Hà Nội"}'.encode()
TS = 1_700_000_000


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # Known answer, computed with `printf '1700000000.{"a":1,"tên":"Hà Nội"}' |
    # openssl dgst -sha256 -hmac 'khoa-bi-mat-0123456789'`: receivers in any language agree.
    expected = "180318885b56a4b6db1b8edf67e5f43a79f4705c630c4688c61f1282d1469007"
    assert signature(SECRET, TS, BODY) == f"sha256={expected}"
    assert signature(SECRET, str(TS), BODY) == f"sha256={expected}"
    plain = hmac.new(SECRET.encode(), f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert plain == expected


def test_verify_accepts_the_real_thing_within_the_tolerance() -> None:
    sig = signature(SECRET, TS, BODY)
    assert verify_signature(SECRET, BODY, str(TS), sig, now=TS)
    assert verify_signature(SECRET, BODY, str(TS), sig, now=TS + 299)
    assert verify_signature(SECRET, BODY, str(TS), f"  {sig} ", now=TS - 299)


@pytest.mark.parametrize(
    ("secret", "body", "timestamp", "sig", "now"),
    [
        ("another-secret-0123456789", BODY, str(TS), None, TS),  # wrong key
        (SECRET, BODY + b" ", str(TS), None, TS),  # body changed by one byte
        (SECRET, BODY.replace(b"1", b"2"), str(TS), None, TS),
        (SECRET, BODY, str(TS + 1), None, TS),  # timestamp changed: signature breaks
        (SECRET, BODY, str(TS), None, TS + 301),  # a captured request sent again later
        (SECRET, BODY, str(TS), None, TS - 301),  # from the future
        (SECRET, BODY, None, None, TS),  # headers missing
        (SECRET, BODY, "", None, TS),
        (SECRET, BODY, str(TS), "", TS),
        (SECRET, BODY, "17e8", None, TS),  # not a plain integer
        (SECRET, BODY, "-1700000000", None, TS),
        (SECRET, BODY, "9" * 400, None, TS),  # hostile length
        (SECRET, BODY, str(TS), "sha1=abc", TS),
        (SECRET, BODY, str(TS), "sha256=" + "0" * 64, TS),
    ],
)
def test_verify_refuses(
    secret: str, body: bytes, timestamp: str | None, sig: str | None, now: int
) -> None:
    if sig is None and timestamp is not None:
        sig = signature(SECRET, TS, BODY)  # the genuine signature of the genuine request
    assert not verify_signature(secret, body, timestamp, sig, now=now)


def test_signature_without_prefix_is_refused() -> None:
    bare = signature(SECRET, TS, BODY).removeprefix("sha256=")
    assert not verify_signature(SECRET, BODY, str(TS), bare, now=TS)


def test_signed_headers_carry_event_delivery_timestamp_and_signature() -> None:
    headers = signed_headers(SECRET, "record.digitized", 42, BODY, TS)
    assert headers[EVENT_HEADER] == "record.digitized"
    assert headers[DELIVERY_HEADER] == "42"
    assert headers[TIMESTAMP_HEADER] == str(TS)
    assert headers[SIGNATURE_HEADER] == signature(SECRET, TS, BODY)
    assert headers["Content-Type"].startswith("application/json")


def test_body_encoding_is_stable_compact_utf8() -> None:
    payload = {"unit": "phuong-co-nhue-1", "event": "record.updated", "note": "Cổ Nhuế"}
    text = encode_body(payload)
    assert text == encode_body(dict(reversed(payload.items())))  # key order does not matter
    assert "Cổ Nhuế" in text and " " not in text.replace("Cổ Nhuế", "")
    assert json.loads(text) == payload


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(20260101)
    previous_longest = 0.0
    for attempts in range(1, 20):
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempts - 1))
        samples = [retry_delay(attempts, rng) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len({round(s, 6) for s in samples}) > 100  # jittered, not one fixed value
        if ceiling < BACKOFF_CAP:
            # the shortest wait after n failures is no shorter than the longest after n-1
            assert min(samples) >= previous_longest
        previous_longest = max(samples)
    assert retry_delay(30, rng) <= BACKOFF_CAP
    assert retry_delay(0, rng) <= BACKOFF_BASE  # nonsense input still gives a sane delay
