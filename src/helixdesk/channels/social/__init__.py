"""Social-media messages through a generic, signed webhook: direct messages become conversations
(channel `social`), public comments become insight feedback (docs/channels.md)."""
