"""``rasa`` as the product runs it: Rasa 3.6's own command line, minus measured waste.

Runs in Rasa's environment (``.venv-rasa``), never imported by the app:

    .venv-rasa/bin/python -m bot.runtime.rasa_server run --enable-api …   (same arguments as ``rasa``)

What it changes, each measured with py-spy on the running product (README "Performance"):

* Rasa validates every action-server response with ``jsonschema.validate(result, spec)``,
  which first checks the schema itself against the Draft 2020-12 meta-schema and builds
  a new validator: ≈ 33 ms of CPU per custom-action call, half of Rasa's busy time under
  load. The same validation with a validator built (and its schema checked) once costs
  ≈ 1.5 ms. Same validator class, same schema, same ``ValidationError`` (``best_match``,
  as ``jsonschema.validate`` raises it), same message suffix.

Nothing else about Rasa's behaviour changes; the patch is checked against the
installed Rasa at start-up and refused (with a clear message) if Rasa's code
differs from what it was written for.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

# The body of the method we replace, as Rasa 3.6 has it: if it changes, do not patch blindly.
_EXPECTED_SOURCE_MARKERS = ("validate(result, self.action_response_format_spec())", "e.message +=")


def _patch_action_result_validation() -> None:
    import jsonschema
    from jsonschema.exceptions import ValidationError, best_match

    from rasa.core.actions import action as rasa_action

    remote = rasa_action.RemoteAction
    source = inspect.getsource(remote._validate_action_result)
    if not all(marker in source for marker in _EXPECTED_SOURCE_MARKERS):
        raise SystemExit("bot.runtime.rasa_server: Rasa's RemoteAction._validate_action_result changed; "
                         "review the patch before running this Rasa version")
    spec = remote.action_response_format_spec()
    cls = jsonschema.validators.validator_for(spec)
    cls.check_schema(spec)  # what validate() did on every call, once
    validator = cls(spec)
    docs = rasa_action.DOCS_BASE_URL

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{docs}/custom-actions"
        )
        raise error

    remote._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def apply_patches() -> None:
    _patch_action_result_validation()


def main(argv: list[str] | None = None) -> None:
    apply_patches()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
