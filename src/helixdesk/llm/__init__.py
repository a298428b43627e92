"""The optional LLM backend: off by default, and the product is complete without it.

It speaks the OpenAI-compatible chat-completions API (vLLM, Ollama, llama.cpp's server) and is used
to reword template replies in the customer's style, compose knowledge answers with citations, write
handoff summaries, and give a second opinion in QA (docs/llm.md).

- `client`: `ChatClient`, plain and streamed (server-sent events) answers, usage or an estimate;
- `redact`: placeholders for personal data before anything leaves, masked forms back;
- `numbers`: the values of the figures in a text (1,000 = 1000 = 一千; dates any way);
- `guard`: `Guard.ask`, every guardrail in one place, and the metering of each call;
- `meter`, `models`: the `llm_calls` rows and their totals (`helixdesk llm usage`);
- `prompts`, `assistant`: the four uses, and `build_assistant(settings, ...)`.

It sits with the engines (it imports `privacy`, `nlu`'s number reading, `db`, `core`) so that the
NLG, the handoff desk and QA can each use it; the compliance check it runs is handed to it as a
function (the QA rule book lives above it).
"""
