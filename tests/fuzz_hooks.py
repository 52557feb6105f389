"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by `tests/api_fuzzing.py`).

The fuzzer may revoke any API token except the one it authenticates with: revoking that one
would turn the rest of the run into 401s and test nothing.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

_OWN_TOKEN = os.environ.get("TRUSTDESK_FUZZ_TOKEN_ID", "")
_SPARE_ID = 2**62  # names no token: the request still runs and answers 404


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if (
        case.method.upper() == "DELETE"
        and case.path == "/api/v1/tokens/{token_id}"
        and str((case.path_parameters or {}).get("token_id")) == _OWN_TOKEN
    ):
        case.path_parameters["token_id"] = _SPARE_ID
