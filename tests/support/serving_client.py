"""Talking to a served model over real HTTP from a test: requests, and digits to send."""

import http.client
import json


def post(port: int, body: bytes, headers=None, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/predict", body=body, headers={"content-type": "application/json", **(headers or {})})
    r = conn.getresponse()
    data = json.loads(r.read() or b"null")
    if own:
        conn.close()
    return r.status, data


def get(port: int, path: str):
    return get_with_headers(port, path, {})


def get_with_headers(port: int, path: str, headers: dict):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def digits(n: int):
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images[:n].tolist(), d.target[:n].tolist()
