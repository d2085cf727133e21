"""Error pages in plain English (HTML for people, JSON for the API)."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("Something in the request was not right", "Please go back, check what you entered and try again."),
    403: ("You cannot see this page", "Your account does not have permission for this. "
          "Ask the budget holder or your support organisation if you think it should."),
    404: ("Page not found", "The address may be mistyped, or the page may have moved."),
    405: ("That did not work", "This page cannot be used that way."),
    413: ("The file is too large", "Please choose a smaller file."),
    429: ("Too many attempts", "For your safety, please wait a few minutes before trying again."),
    500: ("Sorry, something went wrong", "Nothing has been lost. Please try again in a few minutes."),
}


def message(error: HTTPException) -> tuple[str, str]:
    """The page's title and words: ours for the status, unless whoever raised it said something particular."""
    title, detail = MESSAGES.get(error.code or 500, (error.name, error.description or ""))
    if error.description and error.description != type(error).description:
        detail = error.description
    return title, detail


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _render(400, "Your form had expired", "For your safety, forms expire. Please go back, "
                       "reload the page and try again. Nothing was saved.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return _render(error.code or 500, *message(error))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500, *MESSAGES[500])


def _render(status: int, title: str, detail: str):
    if _wants_json():
        return jsonify({"error": {"status": status, "title": title, "detail": detail}}), status
    return render_template("error.html", status=status, title=title, detail=detail), status
