"""A stand-in for a third-party authorization server, for the tests of the guard's remote
verifiers: a real HTTP server on 127.0.0.1 (stdlib ``http.server`` in a thread) serving
RFC 8414 metadata, a JWK Set and RFC 7662 introspection answers that the test sets,
counting every request by path; and JWT access tokens (RFC 9068) signed as such a server
signs them, with joserfc.  It also serves its metadata as an OpenID provider's discovery
document (OpenID Connect Discovery 1.0 §4), for the workload federation's tests: there
it stands for a Kubernetes cluster or GitHub Actions (tests/workload_tokens.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

METADATA = "/.well-known/oauth-authorization-server"
OPENID_CONFIGURATION = "/.well-known/openid-configuration"
JWKS = "/keys"
INTROSPECT = "/introspect"
AUDIENCE = "https://api.test"  # the resource server's identifier, in the tokens' aud
HANG_SECONDS = 5.0  # a hanging answer is released at the latest then, or at stop


def ec_key() -> ECKey:
    """A new P-256 signing key whose ``kid`` is its RFC 7638 thumbprint."""
    return ECKey.generate_key("P-256", {"use": "sig", "alg": "ES256"}, auto_kid=True)


def ed_key() -> OKPKey:
    """A new Ed25519 signing key whose ``kid`` is its RFC 7638 thumbprint."""
    return OKPKey.generate_key("Ed25519", {"use": "sig"}, auto_kid=True)


@dataclass
class Answer:
    """What one path answers: a status and a body, or nothing until released."""

    status: int = 200
    body: bytes = b"{}"
    hang: bool = False


@dataclass
class StandInServer:
    """The server's state; the test changes it between requests."""

    keys: list[ECKey | OKPKey | RSAKey] = field(default_factory=lambda: [ec_key()])
    introspection: Mapping[str, object] = field(default_factory=lambda: {"active": False})
    answers: dict[str, Answer] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    introspection_requests: list[tuple[str | None, dict[str, list[str]]]] = field(
        default_factory=list
    )
    issuer: str = ""
    released: threading.Event = field(default_factory=threading.Event)

    def metadata(self) -> dict[str, object]:
        return {
            "issuer": self.issuer,
            "jwks_uri": self.issuer + JWKS,
            "introspection_endpoint": self.issuer + INTROSPECT,
            "token_endpoint": self.issuer + "/token",
            "response_types_supported": [],
        }

    def answer(self, path: str) -> Answer:
        if path in self.answers:
            return self.answers[path]
        if path in (METADATA, OPENID_CONFIGURATION):
            return Answer(body=orjson.dumps(self.metadata()))
        if path == JWKS:
            jwks = {"keys": [key.as_dict(private=False) for key in self.keys]}
            return Answer(body=orjson.dumps(jwks))
        if path == INTROSPECT:
            return Answer(body=orjson.dumps(self.introspection))
        return Answer(404, b'{"error":"not_found"}')


def _handler(state: StandInServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _respond(self) -> None:
            path = self.path.split("?", 1)[0]
            state.hits[path] += 1
            if self.command == "POST":
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode("utf-8"))
                state.introspection_requests.append((self.headers.get("Authorization"), form))
            answer = state.answer(path)
            if answer.hang:
                state.released.wait(HANG_SECONDS)
                return
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def do_GET(self) -> None:
            self._respond()

        def do_POST(self) -> None:
            self._respond()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read the counters, not a log."""

    return Handler


@contextmanager
def serving(state: StandInServer) -> Iterator[StandInServer]:
    """``state`` served on a free port of 127.0.0.1 until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.released.set()
        server.shutdown()
        server.server_close()
        thread.join(HANG_SECONDS)


def closed_port_url() -> str:
    """The URL of a port of 127.0.0.1 nobody listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def access_claims(issuer: str, now: datetime, **changes: object) -> dict[str, object]:
    """The claims of an RFC 9068 §2.2 access token issued ``now`` for one hour; a change
    of None leaves that claim out."""
    issued = int(now.timestamp())
    claims: dict[str, object] = {
        "iss": issuer,
        "exp": issued + 3600,
        "iat": issued,
        "nbf": issued,
        "jti": "jti-1",
        "sub": "ag_ci_partner",
        "client_id": "ag_ci_partner",
        "scope": "profiles:read reports:write",
        "aud": AUDIENCE,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def sign(key: Key, claims: Mapping[str, object], **header: object) -> str:
    """A JWS of ``claims`` signed with ``key``: header ``typ`` ``at+jwt``, the key's
    ``kid`` and an ``alg`` for its type, unless ``header`` says otherwise (None: left
    out)."""
    alg = "EdDSA" if isinstance(key, OKPKey) else "RS256" if isinstance(key, RSAKey) else "ES256"
    protected = {"typ": "at+jwt", "alg": alg, "kid": key.kid, **header}
    protected = {name: value for name, value in protected.items() if value is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # EdDSA and HS256 warn
        return jwt.encode(protected, dict(claims), key, algorithms=[str(protected["alg"])])


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def unsigned(header: Mapping[str, object], claims: Mapping[str, object]) -> str:
    """An ``alg: none`` JWS (RFC 7515 Appendix A.5): header and payload, no signature."""
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def hs256(secret: bytes, header: Mapping[str, object], claims: Mapping[str, object]) -> str:
    """An HS256 JWS (RFC 7515 Appendix A.1) keyed with ``secret``: made by hand, as a
    forger would (joserfc refuses to take a public key for an HMAC secret)."""
    signing_input = unsigned(header, claims)[:-1]
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def rs256_by_hand(key: RSAKey, header: Mapping[str, object], claims: Mapping[str, object]) -> str:
    """An RS256 JWS (RFC 7515 Appendix A.2) signed with ``key`` whatever its header says
    (joserfc refuses to sign a ``crit`` it does not know, or a ``kid`` that is no
    string): made as a careless or hostile issuer would."""
    signing_input = unsigned(header, claims)[:-1]
    private = key.get_op_key("sign")
    assert isinstance(private, rsa.RSAPrivateKey)
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"
