"""The phone channel: calls from Asterisk over its AudioSocket protocol, a bilingual voice menu,
and the caller's words through the same turn as typed text (docs/telephony.md).

- `audiosocket`: the protocol's frames (decoder robust to any split, stable error codes);
- `vad`: where the caller's utterances start and end (energy with a hangover);
- `menu`: the pack's voice menu (`phone/menu.yaml`), choices by key or by word in either language;
- `playback`: the bot's speech at real-time pace, stopped by barge-in;
- `call`: one call, from greeting to hangup; `server`: the asyncio TCP server, one call per connection.
"""
