"""Business actions over the `BankConnector`: typed, audited, idempotent where they change state."""
