"""Which Tesla account a token belongs to, and entries that predate knowing it."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
import jwt

from .const import DOMAIN, LOGGER

# Entries of minor version 1 are identified by the typed e-mail; from 2 on by the account id.
ACCOUNT_ID_MINOR_VERSION = 2


def account_id(id_token: str | None) -> str | None:
    """The account's id: the subject of the OpenID token Tesla sends with every token reply.

    Only read, not verified: the token came straight from the authentication server over the
    connection that also proved the refresh token, and the id only tells entries apart.
    """
    if not id_token:
        return None
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and subject else None


@callback
def async_adopt_account_id(
    hass: HomeAssistant, entry: ConfigEntry, account: str | None
) -> None:
    """Give an entry made before account ids (unique id: the e-mail) its account's id.

    The id is known only after a token refresh, so this runs when one happens rather than in
    `async_migrate_entry`, which cannot reach Tesla.
    """
    if account is None or entry.minor_version >= ACCOUNT_ID_MINOR_VERSION:
        return
    other = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, account)
    if other is not None and other.entry_id != entry.entry_id:
        LOGGER.warning(
            "The Tesla account of %s is also set up as %s; remove one of the two entries",
            entry.title,
            other.title,
        )
        return
    hass.config_entries.async_update_entry(
        entry, unique_id=account, minor_version=ACCOUNT_ID_MINOR_VERSION
    )
