"""Our own end-to-end scenario suite: customer conversations as data, and the runner that holds them
against the app and judges every reply (figures, invented numbers, language, handoffs)."""
