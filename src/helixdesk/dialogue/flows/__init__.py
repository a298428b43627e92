"""The dialogue's flows: each a few functions over one decision in progress (`Deciding`).

- `requests`: a new request, a follow-up of the last one, or an unclear message;
- `tasks`: taking a task as far as it goes this turn (identity, slots, confirmation, the action);
- `verify`, `slots`, `confirm`, `after`: reading the customer's answer to what the bot asked;
- `issues`: raising what a returning customer left open;
- `handover`: the triggers that hand the conversation to a person.
"""
