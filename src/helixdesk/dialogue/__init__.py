"""The dialogue: from an understood message and the turn's context to what the bot says and does.

`decide` writes nothing; the executor runs its effects once; `Bot.respond` puts the two together.
"""
