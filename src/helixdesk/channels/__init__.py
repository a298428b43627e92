"""Channel adapters: thin translations between a messaging platform and the conversation service."""
