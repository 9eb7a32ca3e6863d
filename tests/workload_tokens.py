"""Platform tokens shaped as Kubernetes and GitHub Actions issue them, signed by the
stand-in issuer's keys (tests/guard/stand_in_server.py, which then stands for the
cluster or for GitHub); tests/client_assertions.py builds the token request that
presents one as a client assertion (RFC 7521 §4.2, RFC 7523 §2.2)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from joserfc.jwk import Key

from tests.guard.stand_in_server import sign

# The audience the tests configure with ``trust add --audience``: a projected
# service-account token's audience, GitHub's ``audience`` parameter.
AUDIENCE = "https://auth.anti-grazer.test"


def _changed(claims: dict[str, Any], changes: Mapping[str, object]) -> dict[str, Any]:
    """``claims`` with ``changes`` applied; a change of None leaves the claim out."""
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def kubernetes_claims(
    issuer: str,
    now: datetime,
    namespace: str = "prod",
    name: str = "reporter",
    **changes: object,
) -> dict[str, Any]:
    """A projected service-account token's claims (valid an hour, for ``AUDIENCE``):
    ``sub`` ``system:serviceaccount:NS:NAME`` and the ``kubernetes.io`` object."""
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "aud": [AUDIENCE],
        "exp": issued + 3600,
        "iat": issued,
        "iss": issuer,
        "nbf": issued,
        "sub": f"system:serviceaccount:{namespace}:{name}",
        "kubernetes.io": {
            "namespace": namespace,
            "pod": {"name": f"{name}-7d9f8b6c5-x2x9z", "uid": str(uuid.uuid4())},
            "serviceaccount": {"name": name, "uid": str(uuid.uuid4())},
        },
    }
    return _changed(claims, changes)


def github_claims(
    issuer: str,
    now: datetime,
    repository: str = "org/app",
    ref: str = "refs/heads/main",
    **changes: object,
) -> dict[str, Any]:
    """A GitHub Actions OIDC token's claims (valid five minutes, a fresh ``jti``):
    ``sub`` ``repo:ORG/REPO:ref:REF``, ``repository``, ``ref``, ``workflow``..."""
    issued = int(now.timestamp())
    owner = repository.split("/", maxsplit=1)[0]
    workflow_ref = f"{repository}/.github/workflows/deploy.yml@{ref}"
    claims: dict[str, Any] = {
        "jti": str(uuid.uuid4()),
        "sub": f"repo:{repository}:ref:{ref}",
        "aud": AUDIENCE,
        "ref": ref,
        "sha": "2f6a5e0c1d9b8a7f6e5d4c3b2a190817161514131",
        "repository": repository,
        "repository_owner": owner,
        "repository_owner_id": "1234567",
        "repository_visibility": "private",
        "repository_id": "7654321",
        "run_id": "9876543210",
        "run_number": "42",
        "run_attempt": "1",
        "actor": "octocat",
        "actor_id": "583231",
        "workflow": "deploy",
        "workflow_ref": workflow_ref,
        "job_workflow_ref": workflow_ref,
        "event_name": "push",
        "ref_type": "branch",
        "runner_environment": "github-hosted",
        "iss": issuer,
        "nbf": issued - 5,
        "exp": issued + 300,
        "iat": issued,
    }
    return _changed(claims, changes)


def platform_token(key: Key, claims: Mapping[str, object], **header: object) -> str:
    """``claims`` signed with ``key`` as a platform signs them: no ``typ`` (Kubernetes;
    GitHub says ``JWT``), the key's ``kid``, the algorithm of its type; ``header``
    changes that (None: left out)."""
    return sign(key, claims, **{"typ": None, **header})
