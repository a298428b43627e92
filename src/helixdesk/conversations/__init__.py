"""Conversations: customers, channels, conversations and messages; the service that owns every write."""
