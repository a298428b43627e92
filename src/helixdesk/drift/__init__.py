"""Drift monitoring: how the bot's understanding of customers changes from day to day.

The durable consumer `drift` (`drift.feed`) adds every customer message the bot understood to its
day's figures; `drift.judge` measures each day against its reference (`drift.reference`) with the
measures of `drift.measures` and raises alarms; `drift.board` lists and resolves them for the
console; `drift.retrain` is the weekly job that proposes a candidate model from new labels. See
docs/drift.md.
"""
