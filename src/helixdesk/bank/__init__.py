"""The core-bank boundary: the `BankConnector` protocol and the embedded demo core bank."""
