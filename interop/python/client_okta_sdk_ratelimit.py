"""Okta's Python SDK (`okta` on PyPI) against a tollgate with a tiny rate limit: the users bucket allows the
API token two calls per three-second window, so of six `list_users` calls in a row most meet a 429. The SDK
must back off on them (it needs `Date` and one `X-Rate-Limit-Reset`, and waits reset - Date + 1 s) and
every call must succeed, within its default two retries.

Plain HTTP needs OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true in the environment (set by run.sh).
Usage: client_okta_sdk_ratelimit.py ISSUER ADMIN_TOKEN
"""
import asyncio
import sys
import time

from okta.client import Client as OktaClient


def fail(msg):
    print(msg)
    sys.exit(1)


async def main():
    issuer, token = sys.argv[1], sys.argv[2]
    client = OktaClient({"orgUrl": issuer, "token": token})
    calls = 6
    start = time.monotonic()
    for i in range(calls):
        users, resp, err = await client.list_users(limit=5)
        if err is not None or not isinstance(users, list):
            fail(f"list_users #{i + 1} failed: {err}")
        # The SDK hands the headers over as a plain dict, keyed as sent (HTTP/1.1 from tollgate: lower case).
        headers = {k.lower(): v for k, v in resp.headers.items()} if resp is not None else {}
        remaining = headers.get("x-rate-limit-remaining")
        if remaining is None:
            fail(f"list_users #{i + 1}: no X-Rate-Limit-Remaining header")
    waited = time.monotonic() - start
    # Two calls per window: the other four had to wait for at least one reset.
    if waited < 2.0:
        fail(f"{calls} calls took {waited:.1f} s: the SDK cannot have backed off on the 429s")
    print(f"{calls} list_users calls against a limit of 2 per 3 s window: all succeeded after backing off "
          f"on 429s ({waited:.1f} s)")


if __name__ == "__main__":
    asyncio.run(main())
