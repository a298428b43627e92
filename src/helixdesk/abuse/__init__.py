"""Abuse limits: rate limits per client IP, API key, conversation and WebSocket connection."""

from helixdesk.abuse.limits import AbuseLimits, LimitConfig
from helixdesk.abuse.memory import MemoryRateLimiter
from helixdesk.abuse.middleware import CLOSE_RATE_LIMITED, RateLimitMiddleware
from helixdesk.abuse.protocol import Decision, RateLimiter
from helixdesk.abuse.redis_backend import RedisRateLimiter

__all__ = [
    "CLOSE_RATE_LIMITED",
    "AbuseLimits",
    "Decision",
    "LimitConfig",
    "MemoryRateLimiter",
    "RateLimitMiddleware",
    "RateLimiter",
    "RedisRateLimiter",
]
