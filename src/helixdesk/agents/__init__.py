"""Agents at work: presence, capacity, and the emotional load of their recent conversations."""
