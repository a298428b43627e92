"""Natural-language understanding: a pipeline of typed stages over a frozen `Turn`."""
