"""Handing a conversation to a person: when, to whom, with what summary; claims, transfers, wrap-up."""
