"""The dialogue manager: from an understood `Turn` to the bot's replies, actions or a handoff."""
