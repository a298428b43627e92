"""The agent console: its pages and its JSON API with the live event stream."""
