"""schemathesis hooks for scripts/test-openapi.sh.

The run authenticates with one API key and one OAuth app of its own. Both are
visible to it (`GET /v1/api-keys`, `GET /v1/apps`), and schemathesis feeds ids
it has seen into path parameters, so sooner or later it would revoke or
delete the very key it authenticates with, or delete or re-key its app, and
every later request would fail with 401: the rest of the run would test
nothing. Those few calls are sent to an id that does not exist instead (a
404, which every check accepts); every operation is still exercised, on
every other id, including the keys and apps the run creates itself.

SIGIL_CONTRACT_PROTECTED lists the protected ids, comma-separated.
"""

import os

import schemathesis

PROTECTED = {i for i in os.environ.get("SIGIL_CONTRACT_PROTECTED", "").split(",") if i}

# Operations that would take a protected credential away from the run.
DESTRUCTIVE = {
    "POST /v1/api-keys/{id}/revoke",
    "DELETE /v1/api-keys/{id}",
    "DELETE /v1/apps/{id}",
    "POST /v1/apps/{id}/secret",
    "PATCH /v1/apps/{id}",
    # allowedIps: a generated allowlist without 127.0.0.1 would lock the
    # run's key out, and every later call would be a 403 ip_not_allowed.
    "PATCH /v1/api-keys/{id}",
}


@schemathesis.hook
def before_call(context, case, kwargs):
    label = f"{case.method.upper()} {case.operation.path}"
    params = case.path_parameters or {}
    if label in DESTRUCTIVE and params.get("id") in PROTECTED:
        params["id"] = "protected_by_the_contract_run"
