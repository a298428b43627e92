"""Outreach: what the bank does for a customer without being asked, from the event log.

A consumer of the log (`outreach`) in a process of its own (`helixdesk outreach run`, started by
`helixdesk serve`): today the goodwill offer to a customer at risk whose complaint is resolved
(`outreach.goodwill`). It never runs inside a customer's turn.
"""
