"""The customer's rights over their personal information (PIPL): a copy of it, and its erasure.

`export_customer` gathers everything Helixdesk holds about one customer as JSON;
`erase_customer` deletes it. Both are audited. The core bank's records (accounts, cards,
transactions; the demo core bank here) are the bank's system of record and are left alone.
"""

from helixdesk.rights.service import (
    ErasureReport,
    RightsCustomerNotFoundError,
    erase_customer,
    export_customer,
)

__all__ = ["ErasureReport", "RightsCustomerNotFoundError", "erase_customer", "export_customer"]
