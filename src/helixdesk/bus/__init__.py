"""The event bus: a typed protocol with an in-memory and a Redis Streams implementation."""
