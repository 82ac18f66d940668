"""A form for your Smartcar app's credentials that keeps the secret secret.

The values go into this kernel's environment, under the variables that
Smartcar's SDK reads, and nowhere else: the secret is typed into a password
field, which is emptied at once, so a saved notebook never holds it.

    credentials_form()          # fill it in, press "Use these credentials"
    smartcar = use_smartcar()   # now goes to Smartcar with your app
"""

from __future__ import annotations

import html
import logging
import os

import ipywidgets as widgets

from .connection import DEFAULT_REDIRECT_URI, check_local_redirect_uri
from .errors import ConfigurationError

logger = logging.getLogger(__name__)


class CredentialsForm(widgets.VBox):
    """Client id, secret (hidden) and redirect URI, kept in the environment.

    Attributes:
        client_id, client_secret, redirect_uri: The three fields.
        use: The button that stores them.
        message: What happened, in plain words.
    """

    def __init__(self) -> None:
        self.client_id = widgets.Text(
            value=os.environ.get("SMARTCAR_CLIENT_ID", ""), description="Client id"
        )
        self.client_secret = widgets.Password(description="Secret")
        self.redirect_uri = widgets.Text(
            value=os.environ.get("SMARTCAR_REDIRECT_URI", DEFAULT_REDIRECT_URI),
            description="Redirect",
            layout=widgets.Layout(width="32em"),
        )
        self.use = widgets.Button(description="Use these credentials")
        self.message = widgets.HTML()
        self.use.on_click(lambda _button: self.store())
        super().__init__(
            [
                self.client_id,
                self.client_secret,
                self.redirect_uri,
                self.use,
                self.message,
            ]
        )

    def store(self) -> bool:
        """Check the fields and put them in the environment; True on success."""
        client_id = self.client_id.value.strip()
        secret = self.client_secret.value.strip()
        redirect_uri = self.redirect_uri.value.strip()
        self.client_secret.value = ""  # never kept in widget state
        try:
            if not client_id:
                raise ConfigurationError("Client id is empty: copy it from Smartcar.")
            if not secret and not os.environ.get("SMARTCAR_CLIENT_SECRET"):
                raise ConfigurationError("Secret is empty: copy it from Smartcar.")
            check_local_redirect_uri(redirect_uri)
        except ConfigurationError as exc:
            self._say(str(exc), error=True)
            return False

        os.environ["SMARTCAR_CLIENT_ID"] = client_id
        os.environ["SMARTCAR_REDIRECT_URI"] = redirect_uri
        if secret:
            os.environ["SMARTCAR_CLIENT_SECRET"] = secret
        logger.info("Credentials for app %r stored in the environment", client_id)
        self._say(
            f"Stored for this kernel until it restarts: app {client_id!r}, "
            f"redirect URI {redirect_uri!r}. The secret is not shown and not "
            "saved in the notebook."
        )
        return True

    def _say(self, text: str, error: bool = False) -> None:
        colour = "#b42318" if error else "#1a7f37"
        self.message.value = f"<p style='color:{colour}'>{html.escape(text)}</p>"


def credentials_form() -> CredentialsForm:
    """Return a form that stores your app's credentials for this kernel."""
    return CredentialsForm()
