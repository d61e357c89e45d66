"""Okta's Python SDK (`okta` on PyPI) in its default mode, an SSWS API token (`{"orgUrl", "token"}`: the SDK
sends `Authorization: SSWS<token>` with no space), unchanged but for orgUrl: list users and apps, then read
the System Log with `list_log_events` — `since`, a `filter`, and paging by the `next` link's `after`.

Plain HTTP needs OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true in the environment (set by run.sh).
Usage: client_okta_sdk_ssws.py WORKDIR ADMIN_TOKEN
"""
import asyncio
import datetime
import json
import os
import sys
import urllib.parse

from okta.client import Client as OktaClient


def fail(msg):
    print(msg)
    sys.exit(1)


async def main():
    work, token = sys.argv[1], sys.argv[2]
    with open(os.path.join(work, "state.json")) as f:
        state = json.load(f)
    client = OktaClient({"orgUrl": state["issuer"], "token": token})

    users, resp, err = await client.list_users(limit=5)
    if err is not None or not isinstance(users, list):
        fail(f"SSWS list_users failed: {err}")
    apps, resp, err = await client.list_applications()
    if err is not None or not isinstance(apps, list) or not apps:
        fail(f"SSWS list_applications failed or empty: {err}")

    # The setup registered apps through DCR: each is a System Log event. A bounded query (until in the
    # future) sees them as soon as they are written.
    since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    wanted = 'eventType eq "app.oauth2.client.lifecycle.create"'
    events = []
    for _ in range(30):
        events, resp, err = await client.list_log_events(since=since, until=until, filter=wanted, limit=2)
        if err is not None:
            fail(f"list_log_events failed: {err}")
        if len(events) >= 2:
            break
        await asyncio.sleep(0.2)
    if len(events) < 2:
        fail(f"list_log_events found {len(events)} app registrations, expected at least 2")
    for e in events:
        if e.event_type != "app.oauth2.client.lifecycle.create" or e.outcome.result != "SUCCESS":
            fail(f"unexpected event {e.event_type} / {e.outcome.result}")
        if not e.actor or e.actor.type != "ApiToken" or not e.target:
            fail(f"event without the API token as actor or without a target: {e}")
    # The next page, by the `after` of the `next` link (this SDK version pages by hand), continues where
    # the first ended and repeats nothing.
    link = (getattr(resp, "headers", None) or {}).get("Link", "")
    nxt = [part for part in link.split(",") if 'rel="next"' in part]
    if not nxt:
        fail(f"a full page had no next link: {link!r}")
    query = urllib.parse.urlparse(nxt[0].split(";")[0].strip().strip("<>")).query
    after = urllib.parse.parse_qs(query).get("after", [None])[0]
    if not after:
        fail(f"the next link has no after: {nxt[0]!r}")
    page, resp, err = await client.list_log_events(since=since, until=until, filter=wanted, limit=2, after=after)
    if err is not None:
        fail(f"the next page failed: {err}")
    seen = {e.uuid for e in events}
    if any(e.uuid in seen for e in page):
        fail("the next page repeated an event")
    more = len(page)
    print(f"SSWS mode (SSWS<token>): list users, list apps; list_log_events with since/until/filter: "
          f"{len(events)} events, then {more} more on the next page")


if __name__ == "__main__":
    asyncio.run(main())
