"""Memory across channels: the customer's unresolved issues, raised again when they come back."""
