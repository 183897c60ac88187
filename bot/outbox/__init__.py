"""Durable broadcast delivery: store one row per recipient, then pace and record each send.

How another feature sends to many people::

    bid = await services.outbox.create_broadcast(
        kind="event", created_by=actor.user_id, message=OutgoingMessage(text=...),
        recipients=[Recipient("telegram", str(uid), uid) for uid in user_ids],
        park_ids=[park_id], progress_chat=actor.user_id, ref=f"event:{event_id}",
    )

With `park_ids`, the group robots of those parks that take `message.kind` are added as rows
of channel "robot" in the same broadcast (`lang="zh"` limits them to robots reading that
language, for features sending one broadcast per language; `robots=False` for personal
messages). The call returns once every row is committed; the worker (a background loop in the
bot process, or `Services.tick` where none runs) delivers them. Guarantees, per row:

    pending ──claim──▶ claimed(owner, lease) ──commit──▶ sending ──▶ sent | failed
       ▲                    │                               │        unreachable | uncertain
       └── lease expired ───┘                               └── killed here: uncertain
    pending/claimed ──cancel──▶ cancelled

A row reaches the network only from `sending`, and `sending` is committed first, so after a
crash a row is either provably unsent (pending/claimed → sent later, once) or marked uncertain
(never resent). 429s pause the channel (a robot's limit pauses only that robot) and put the
row back; 5xx/network errors back off (2, 4, 8 … s, at most 5 attempts); timeouts are
uncertain; 403s mark the user unreachable.
"""
