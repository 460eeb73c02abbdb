"""Interop: PyPI oic 1.7 discovers a realm and registers a client through Client.register with
an initial access token. Usage: python oic_register.py <issuer>"""
import sys

import requests
from oic.oic import Client
from oic.oic.message import RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD

issuer = sys.argv[1]
rp = Client(client_authn_method=CLIENT_AUTHN_METHOD)
rp.allow["issuer_mismatch"] = False
provider = rp.provider_config(issuer)
assert provider["issuer"] == issuer, provider["issuer"]

token = requests.post(
    provider["token_endpoint"],
    auth=("registration-service", "forgerock"),
    data={"grant_type": "client_credentials", "scope": "dynamic_client_registration"},
    timeout=10,
).json()["access_token"]

response = rp.register(
    provider["registration_endpoint"],
    registration_token=token,
    redirect_uris=["https://client.example.com/callback"],
    client_name="oic interop",
    response_types=["code"],
)
assert isinstance(response, RegistrationResponse), type(response)
assert rp.client_id == response["client_id"]
assert rp.client_secret
assert response["registration_access_token"]
print(f"oic: registered {rp.client_id}")
