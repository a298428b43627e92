"""Outreach: what the bank does for a customer without being asked.

A process of its own (`helixdesk outreach run`, started by `helixdesk serve`): a consumer of the
event log (`outreach`) that gives the goodwill offer to a customer at risk whose complaint is
resolved (`outreach.goodwill`), and the incident campaigns that notify the customers an incident
affects (`outreach.campaigns`: start, counts, cancel; `outreach.campaign_sender`: the periodic step
that targets and sends; `outreach.campaign_rules`: quiet hours and the rate). It never runs inside
a customer's turn.
"""
