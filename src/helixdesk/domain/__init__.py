"""Framework-free domain types shared by every layer."""
