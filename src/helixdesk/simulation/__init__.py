"""Simulated customers before release (`helixdesk simulate`) and agents' practice conversations.

Persona customers (`personas`) pursue the pack's goals (`scenarios`) through the public API; the run
is judged from the replies and the record (`runner`, `numbers`) and summed up with its release gate
(`report`). The same personas answer agents in the console's training mode (`training`).
"""
