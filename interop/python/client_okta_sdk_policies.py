"""Okta's Python SDK (`okta` on PyPI), unchanged, in SSWS mode, configures a custom authorization server the
way Okta users do: it creates a server, a scope, an access policy for one client, a rule setting a 7-minute
token lifetime and a custom claim from an expression, reading each back (list and get) through its own
models. The client then gets a token (client_secret_basic, plain HTTP) that must carry the rule's lifetime
and the claim, and introspection shows the claim.

Plain HTTP needs OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true in the environment (set by run.sh).
Usage: client_okta_sdk_policies.py WORKDIR ADMIN_TOKEN
"""
import asyncio
import base64
import json
import os
import sys
import uuid

import requests
from okta.client import Client as OktaClient
from okta.models import (
    AuthorizationServer,
    AuthorizationServerPolicy,
    AuthorizationServerPolicyRuleRequest,
    OAuth2Claim,
    OAuth2Scope,
)


def fail(msg):
    print(msg)
    sys.exit(1)


def check(what, result):
    value, resp, err = result
    if err is not None:
        fail(f"{what} failed: {err}")
    return value


def claims_of(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


async def main():
    work, admin = sys.argv[1], sys.argv[2]
    with open(os.path.join(work, "state.json")) as f:
        state = json.load(f)
    issuer = state["issuer"]
    app = state["apps"]["introspector-default"]
    client_id, secret = app["client_id"], app["client_secret"]
    client = OktaClient({"orgUrl": issuer, "token": admin})

    suffix = uuid.uuid4().hex[:8]
    server = check("create_authorization_server", await client.create_authorization_server(
        AuthorizationServer.from_dict({"name": f"interop-{suffix}", "description": "interop",
                                       "audiences": [f"api://interop-{suffix}"]})))
    scope = check("create_o_auth2_scope", await client.create_o_auth2_scope(
        server.id, OAuth2Scope.from_dict({"name": "interop.read", "description": "read"})))
    policy = check("create_authorization_server_policy", await client.create_authorization_server_policy(
        server.id, AuthorizationServerPolicy.from_dict({
            "type": "OAUTH_AUTHORIZATION_POLICY", "status": "ACTIVE", "name": "Interop client",
            "description": "only the interop client", "priority": 1,
            "conditions": {"clients": {"include": [client_id]}},
        })))
    rule = check("create_authorization_server_policy_rule", await client.create_authorization_server_policy_rule(
        server.id, policy.id, AuthorizationServerPolicyRuleRequest.from_dict({
            "type": "RESOURCE_ACCESS", "name": "seven minutes", "priority": 1, "status": "ACTIVE",
            "conditions": {"people": {"groups": {"include": ["EVERYONE"]}},
                           "grantTypes": {"include": ["client_credentials"]},
                           "scopes": {"include": [scope.name]}},
            "actions": {"token": {"accessTokenLifetimeMinutes": 7}},
        })))
    claim = check("create_o_auth2_claim", await client.create_o_auth2_claim(
        server.id, OAuth2Claim.from_dict({
            "name": "interop_tag", "status": "ACTIVE", "claimType": "RESOURCE", "valueType": "EXPRESSION",
            "value": '"tag:" + String.toUpperCase(app.clientId)', "alwaysIncludeInToken": True,
            "conditions": {"scopes": [scope.name]},
        })))

    # Read back through the SDK's models.
    policies = check("list_authorization_server_policies", await client.list_authorization_server_policies(server.id))
    if [p.name for p in policies][:1] != ["Interop client"] or policies[0].priority != 1:
        fail(f"policies not in priority order: {[(p.name, p.priority) for p in policies]}")
    got = check("get_authorization_server_policy", await client.get_authorization_server_policy(server.id, policy.id))
    if got.conditions.clients.include != [client_id]:
        fail(f"policy clients read back as {got.conditions.clients.include}")
    rules = check("list_authorization_server_policy_rules",
                  await client.list_authorization_server_policy_rules(server.id, policy.id))
    if len(rules) != 1 or rules[0].actions.token.access_token_lifetime_minutes != 7:
        fail(f"rule read back wrong: {rules}")
    claims = check("list_o_auth2_claims", await client.list_o_auth2_claims(server.id))
    if [c.name for c in claims] != ["interop_tag"] or claims[0].id != claim.id:
        fail(f"claims read back as {[c.name for c in claims]}")

    # The token the client now gets carries the rule's lifetime and the claim.
    token_url = f"{issuer}/oauth2/{server.id}/v1/token"
    r = requests.post(token_url, auth=(client_id, secret),
                      data={"grant_type": "client_credentials", "scope": scope.name}, timeout=30)
    if r.status_code != 200:
        fail(f"token request: HTTP {r.status_code} {r.text}")
    body = r.json()
    access = claims_of(body["access_token"])
    want_tag = "tag:" + client_id.upper()
    if body["expires_in"] != 420 or access["exp"] - access["iat"] != 420:
        fail(f"token lifetime {body['expires_in']} / {access['exp'] - access['iat']}, expected 420 from the rule")
    if access.get("interop_tag") != want_tag:
        fail(f"token claim interop_tag = {access.get('interop_tag')!r}, expected {want_tag!r}")
    r = requests.post(f"{issuer}/oauth2/{server.id}/v1/introspect", auth=(client_id, secret),
                      data={"token": body["access_token"]}, timeout=30)
    if r.status_code != 200 or r.json().get("interop_tag") != want_tag:
        fail(f"introspection: HTTP {r.status_code} {r.text}")

    # Deactivating the rule through the SDK: Okta's refusal, as Okta words it.
    result = await client.deactivate_authorization_server_policy_rule(server.id, policy.id, rule.id)
    if result[-1] is not None:
        fail(f"deactivate_authorization_server_policy_rule failed: {result[-1]}")
    r = requests.post(token_url, auth=(client_id, secret),
                      data={"grant_type": "client_credentials", "scope": scope.name}, timeout=30)
    wanted = "Policy evaluation failed for this request, please check the policy configurations."
    if r.status_code != 400 or r.json().get("error_description") != wanted:
        fail(f"after deactivating the rule: HTTP {r.status_code} {r.text}")
    print(f"policy, rule (7 min) and claim made by the SDK on {server.id}: token expires_in 420 with "
          f"interop_tag={want_tag}; introspection shows it; a deactivated rule gives Okta's refusal")


if __name__ == "__main__":
    asyncio.run(main())
