"""The error the sandbox answers with: an HTTP status and Rutter's error envelope."""

from __future__ import annotations


class ApiError(Exception):
    """A request the sandbox refuses; rendered as `{"error_type", "error_code", "error_message"}`."""

    def __init__(
        self, status: int, error_type: str, error_code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.headers = headers or {}
        self.status = status
        self.error_type = error_type
        self.error_code = error_code
        self.message = message

    def body(self) -> dict[str, str]:
        """The JSON error envelope."""
        return {"error_type": self.error_type, "error_code": self.error_code, "error_message": self.message}


def bad_request(message: str, code: str = "INVALID_REQUEST") -> ApiError:
    """A 400 for malformed or unsupported input."""
    return ApiError(400, "INVALID_REQUEST", code, message)
