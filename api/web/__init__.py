"""The web app (/app): server-rendered Japanese pages for the site office, the foreman, the
worker and the auditor, on the same service as the JSON API.

The pages call the JSON routes' own functions (`api.routers.*`) with the session's actor: the
same use cases (`Ledger`), the same privacy (`ledger.privacy`, `projections.queries`) and the
same role checks (`api.deps.admitted`, `check_write_scope`). Whatever the API refuses, a page
refuses with the same status; a page about something hidden answers as absent (404).
"""

from api.web.app import mount as mount

__all__ = ["mount"]
