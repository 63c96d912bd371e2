"""How the worker authenticates to the brokers: Faust's ``broker_credentials`` from app.config.

PLAINTEXT (the default, every local broker of this repository) needs none. For an existing
cluster, KAFKA_SECURITY_PROTOCOL picks TLS (SSL), SASL over plaintext (SASL_PLAINTEXT) or SASL
over TLS (SASL_SSL); Faust hands the credentials to every aiokafka client it makes (consumer,
producers, admin).
"""

from __future__ import annotations

import ssl

import faust
from faust.types.auth import CredentialsT

from app.config import Settings


def broker_credentials(config: Settings) -> CredentialsT | None:
    """The credentials for ``config.security_protocol``; None for PLAINTEXT."""
    protocol = config.security_protocol
    if protocol == "PLAINTEXT":
        return None
    # TLS: the system's trusted CAs, or only the one in KAFKA_SSL_CAFILE. Hostnames are checked.
    context = (
        ssl.create_default_context(cafile=config.ssl_cafile or None)
        if protocol in ("SSL", "SASL_SSL")
        else None
    )
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    return faust.SASLCredentials(
        username=config.sasl_username,
        password=config.sasl_password,
        mechanism=config.sasl_mechanism,
        ssl_context=context,
    )
