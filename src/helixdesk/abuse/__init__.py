"""Abuse limits: rate limits per client IP, API key, conversation and WebSocket connection."""

from helixdesk.abuse.limits import AbuseLimits, LimitConfig
from helixdesk.abuse.memory import MemoryRateLimiter
from helixdesk.abuse.protocol import Decision, RateLimiter
from helixdesk.abuse.redis_backend import RedisRateLimiter

__all__ = [
    "AbuseLimits",
    "Decision",
    "LimitConfig",
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
]
